// The audit ledger: the newest records (GetHistory), read again whenever a job
// ends (JobRemoved: the daemon has then queued its record), and the hash chain's
// verification (VerifyHistory) on demand.
import { byId, coalesce, fill, h, table } from './dom.js';
import { stateBadge } from './jobs-view.js';
import {
  describeError,
  describeVerification,
  formatTime,
  parseHistory,
  summaryText,
} from './model.js';

const LIMIT = 20;

export function mountHistory({ api }) {
  let generation = 0;

  const load = coalesce(async () => {
    const mine = ++generation;
    try {
      const [text] = await api.call('GetHistory', [LIMIT]);
      if (mine !== generation) return; // a newer read is on its way
      const records = parseHistory(text);
      fill(
        byId('history'),
        records.length === 0
          ? h('p', { class: 'muted' }, 'The ledger is empty.')
          : table(
              [
                { label: '#', value: (r) => String(r.seq ?? '') },
                {
                  label: 'Ended',
                  value: (r) => h('span', { class: 'nowrap' }, formatTime(new Date(r.time))),
                },
                {
                  label: 'Job',
                  value: (r) => h('span', { class: 'nowrap' }, `${r.job ?? ''} (${r.kind})`),
                },
                { label: 'State', value: (r) => stateBadge(r.state) },
                {
                  label: 'By',
                  value: (r) =>
                    h(
                      'span',
                      { class: 'nowrap' },
                      r.sender === 'op-dbus' ? 'op-dbus' : `uid ${r.uid}`,
                    ),
                },
                {
                  label: 'Outcome',
                  value: (r) => summaryText(r.summary),
                },
                { label: 'Hash', value: (r) => h('code', { title: r.hash }, r.hash.slice(0, 16)) },
              ],
              records,
              (r) => `ledger-row ledger-${r.seq}`,
            ),
      );
    } catch (error) {
      fill(byId('history'), h('p', { class: 'error-text' }, describeError(error).message));
    }
  });

  const verify = async () => {
    const out = byId('verify-result');
    out.className = 'muted';
    out.textContent = 'Verifying…';
    try {
      const [report] = await api.call('VerifyHistory');
      const verdict = describeVerification(report);
      out.className = verdict.ok ? 'verified ok-text' : 'verified error-text';
      out.textContent = verdict.text;
    } catch (error) {
      out.className = 'error-text';
      out.textContent = describeError(error).message;
    }
  };

  byId('verify-button').addEventListener('click', () => void verify());
  api.manager.addEventListener('JobRemoved', load);
  api.client.addEventListener('owner', (_e, owner) => owner && load());
  load();
}
