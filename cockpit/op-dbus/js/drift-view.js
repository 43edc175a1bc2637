// A live feed of DriftDetected signals and of the drift jobs that correct them,
// newest first.
import { byId, coalesce, fill, h } from './dom.js';
import { resultView, stateBadge } from './jobs-view.js';
import { formatChange, formatTime, parseJson } from './model.js';

const KEPT = 50;

export function mountDrift({ api, jobs }) {
  /** {type: 'drift', time, plugin, resource, observed, desired} or {type: 'job', time, id}. */
  const entries = [];
  const seenJobs = new Set();
  const add = (entry) => {
    entries.unshift(entry);
    entries.length = Math.min(entries.length, KEPT);
  };

  const render = coalesce(() => {
    byId('drift-empty').hidden = entries.length > 0;
    fill(
      byId('drift-feed'),
      entries.map((entry) => {
        if (entry.type === 'drift') {
          const name = entry.resource ? `${entry.plugin}/${entry.resource}` : entry.plugin;
          return h(
            'li',
            { class: 'drift', dataset: { resource: name } },
            h('time', {}, formatTime(entry.time)),
            ' drift ',
            h('code', {}, name),
            ': ',
            h(
              'span',
              { class: 'change', title: 'observed → desired' },
              formatChange(
                parseJson(entry.observed, entry.observed),
                parseJson(entry.desired, entry.desired),
              ),
            ),
          );
        }
        const job = jobs.get(entry.id);
        return h(
          'li',
          { class: 'drift-job', dataset: { job: entry.id } },
          h('time', {}, formatTime(entry.time)),
          ` correction job ${entry.id} `,
          stateBadge(job?.state ?? 'gone'),
          job ? resultView(job) : null,
        );
      }),
    );
  });

  api.manager.addEventListener('DriftDetected', (_e, plugin, resource, observed, desired) => {
    add({
      type: 'drift',
      time: new Date(),
      plugin: String(plugin),
      resource: String(resource),
      observed,
      desired,
    });
    render();
  });
  jobs.addEventListener('changed', (_e, job) => {
    if (job?.announced && job.kind === 'drift' && !seenJobs.has(job.id)) {
      seenJobs.add(job.id);
      add({ type: 'job', time: new Date(), id: job.id });
    }
    render();
  });
  render();
}
