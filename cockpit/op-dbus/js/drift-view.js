// A live feed of DriftDetected signals and of the drift jobs that correct them,
// newest first.
import { byId, coalesce, fill, h } from './dom.js';
import { resultView, stateBadge } from './jobs-view.js';
import { formatChange, formatTime, parseJson } from './model.js';

const KEPT = 50;

export function mountDrift({ api, jobs }) {
  /** {type: 'drift', time, plugin, resource, observed, desired} or {type: 'job', time, job}. */
  const entries = [];
  // Job objects, not ids: a restarted daemon numbers its jobs from 1 again.
  const seenJobs = new WeakSet();
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
        const { job } = entry;
        return h(
          'li',
          { class: 'drift-job', dataset: { job: job.id } },
          h('time', {}, formatTime(entry.time)),
          ` correction job ${job.id} `,
          stateBadge(job.state),
          resultView(job),
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
    if (job?.announced && job.kind === 'drift' && !seenJobs.has(job)) {
      seenJobs.add(job);
      add({ type: 'job', time: new Date(), job });
    }
    render();
  });
  render();
}
