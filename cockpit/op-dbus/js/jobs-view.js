// The running job (or the last one) with a bar per plugin and resource from the
// Progress signal, and the recent jobs with their results.
import { bar, byId, coalesce, fill, h, table } from './dom.js';
import { isFinal } from './jobs.js';
import { summaryText } from './model.js';

const STATE_CLASS = {
  queued: '',
  running: 'busy',
  done: 'ok',
  failed: 'danger',
  cancelled: 'warn',
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
      {},
      h('code', {}, f.resource ? `${f.plugin}/${f.resource}` : f.plugin),
      `: ${f.error || 'failed'}`,
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

function jobPanel(job) {
  const title = isFinal(job.state) ? 'Last job' : 'Running job';
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

export function mountJobs({ jobs }) {
  const render = coalesce(() => {
    const list = jobs.list();
    const shown = jobs.current() ?? list[0];
    fill(
      byId('running-job'),
      shown ? jobPanel(shown) : h('p', { class: 'muted' }, 'No job since this page opened.'),
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
              { label: 'Result', value: (j) => resultView(j) },
            ],
            list,
            (j) => `job-row job-${j.id}`,
          ),
    );
  });
  jobs.addEventListener('changed', render);
  render();
}
