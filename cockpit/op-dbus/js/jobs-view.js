// The running job (or the last one) with a bar per plugin and resource from the
// Progress signal, and the recent jobs with their results. A job that has not
// ended has a Cancel button (the job object's Cancel: root or polkit); a refusal
// is shown above the job.
import { JOB_INTERFACE } from './client.js';
import { bar, byId, coalesce, fill, h, table } from './dom.js';
import { isFinal } from './jobs.js';
import { describeError, summaryText } from './model.js';

const STATE_CLASS = {
  queued: '',
  running: 'busy',
  done: 'ok',
  failed: 'danger',
  cancelled: 'warn',
};

/** What each failure kind means, as the daemon's engine treats it. */
const FAILURE_HINT = {
  terminal: 'retrying cannot help until something changes',
  retryable: 'the daemon retries it with back-off',
};

export function stateBadge(state) {
  return h('span', { class: `badge ${STATE_CLASS[state] ?? ''}` }, state || '?');
}

/** "2 changed, 5 unchanged, 0 failed" and each failure with its error. */
export function resultView(job) {
  if (!job.result) return isFinal(job.state) ? '' : '…';
  const failures = job.result.failures.map((f) =>
    h(
      'li',
      { dataset: { failure: f.failure } },
      h('code', {}, f.resource ? `${f.plugin}/${f.resource}` : f.plugin),
      ' ',
      h('span', { class: `badge failure ${f.failure}`, title: FAILURE_HINT[f.failure] }, f.failure),
      ` ${f.error || 'failed'}`,
    ),
  );
  return h(
    'div',
    { class: 'result' },
    h('span', { class: 'summary' }, summaryText(job.result.summary)),
    job.result.error ? h('div', { class: 'error-text' }, job.result.error) : null,
    failures.length ? h('ul', { class: 'failures' }, failures) : null,
  );
}

function progressRows(job) {
  // The plugin's own row first, then its resources, in the order they reported.
  const rows = [...job.progress.values()].sort(
    (a, b) =>
      a.plugin.localeCompare(b.plugin) || (a.resource === '' ? -1 : b.resource === '' ? 1 : 0),
  );
  return h(
    'ul',
    { class: 'progress-rows' },
    rows.map((row) => {
      const label = row.resource ? `${row.plugin}/${row.resource}` : row.plugin;
      return h(
        'li',
        { class: row.resource ? 'resource' : 'plugin', dataset: { key: label } },
        h('span', { class: 'progress-label' }, label),
        bar(row.percent, label),
        h('span', { class: 'progress-phase' }, row.phase),
        h('span', { class: 'progress-message muted' }, row.message),
      );
    }),
  );
}

function jobPanel(job, cancelButton) {
  const title = isFinal(job.state)
    ? 'Last job'
    : `${job.state === 'queued' ? 'Queued' : 'Running'} job`;
  return h(
    'div',
    { class: 'job-panel', dataset: { job: job.id, state: job.state } },
    h(
      'h3',
      {},
      `${title}: job ${job.id}`,
      job.kind ? ` (${job.kind})` : '',
      ' ',
      stateBadge(job.state),
      ' ',
      cancelButton(job),
    ),
    h(
      'div',
      { class: 'overall' },
      bar(job.percentage, `job ${job.id} overall`),
      `${job.percentage}%`,
    ),
    job.progress.size ? progressRows(job) : null,
    isFinal(job.state) ? resultView(job) : null,
  );
}

export function mountJobs({ api, jobs }) {
  const message = byId('job-message');
  const say = (kind, ...content) => {
    message.hidden = false;
    message.className = `message ${kind}`;
    message.dataset.kind = kind;
    fill(message, ...content);
  };

  const cancel = async (job, button) => {
    button.disabled = true;
    try {
      await api.call('Cancel', [], job.path, JOB_INTERFACE);
      say('info', `Cancel requested for job ${job.id}.`);
    } catch (error) {
      const described = describeError(error);
      say(described.kind, h('strong', {}, described.title), ` ${described.message}`);
      button.disabled = false;
    }
  };
  const cancelButton = (job) =>
    isFinal(job.state)
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'btn secondary small job-cancel',
            dataset: { job: job.id },
            onclick: (event) => void cancel(job, event.currentTarget),
          },
          'Cancel',
        );

  const render = coalesce(() => {
    const list = jobs.list();
    const shown = jobs.current() ?? list[0];
    fill(
      byId('running-job'),
      shown
        ? jobPanel(shown, cancelButton)
        : h('p', { class: 'muted' }, 'No job since this page opened.'),
    );
    fill(
      byId('recent-jobs'),
      list.length === 0
        ? h('p', { class: 'muted' }, 'None yet.')
        : table(
            [
              { label: 'Job', value: (j) => String(j.id) },
              { label: 'Kind', value: (j) => j.kind },
              { label: 'State', value: (j) => stateBadge(j.state) },
              { label: 'Result', value: (j) => [resultView(j), cancelButton(j)] },
            ],
            list,
            (j) => `job-row job-${j.id}`,
          ),
    );
  });
  jobs.addEventListener('changed', render);
  render();
}
