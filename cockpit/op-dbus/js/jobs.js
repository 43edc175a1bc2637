// What the page knows about jobs, from the daemon's signals and the job objects'
// properties (no polling): JobNew/JobRemoved/Progress on the manager, and one
// cockpit proxies() watch over /org/opdbus/StateManager/job for State, Percentage
// and Result. Views subscribe to 'changed' and redraw.
import { JOB_INTERFACE, MANAGER_PATH } from './client.js';
import { jobIdFromPath, parseResult, progressKey } from './model.js';

const KEPT = 20;
const FINAL = new Set(['done', 'failed', 'cancelled']);

export function isFinal(state) {
  return FINAL.has(state);
}

export class JobStore {
  constructor(api) {
    this.api = api;
    /** id -> job, in the order first seen. */
    this.jobs = new Map();
    /** Counts daemon restarts seen: job ids are only unique within one. */
    this.epoch = 0;
    cockpit.event_target(this);
    const { manager, client } = api;
    manager.addEventListener('JobNew', (_e, id, path, kind) =>
      this.#update(id, { path, kind, announced: true }),
    );
    manager.addEventListener('JobRemoved', (_e, id, path, result) =>
      this.#update(id, { path, state: result }),
    );
    manager.addEventListener('Progress', (_e, id, plugin, resource, phase, percent, message) =>
      this.#progress(id, { plugin, resource, phase, percent, message }),
    );
    this.proxies = client.proxies(JOB_INTERFACE, `${MANAGER_PATH}/job`);
    this.proxies.addEventListener('changed', (_e, proxy) => this.#fromProxy(proxy));
    // A new owner is a restarted daemon: its job ids start again at 1.
    client.addEventListener('owner', (_e, owner) => this.#ownerChanged(owner));
  }

  /** Jobs newest first. */
  list() {
    return [...this.jobs.values()].sort((a, b) => b.id - a.id);
  }

  get(id) {
    return this.jobs.get(id);
  }

  /** The job running now (or the newest queued one), if any. */
  current() {
    const open = this.list().filter((job) => !isFinal(job.state));
    return open.find((job) => job.state === 'running') ?? open[open.length - 1];
  }

  #ownerChanged(owner) {
    if (this.owner !== undefined && owner !== this.owner) {
      this.jobs.clear();
      this.epoch += 1;
      this.dispatchEvent('changed');
    }
    this.owner = owner;
  }

  #ensure(id) {
    if (!Number.isInteger(id) || id < 1) return undefined;
    let job = this.jobs.get(id);
    if (!job) {
      job = {
        id,
        path: `${MANAGER_PATH}/job/${id}`,
        kind: '',
        state: 'queued',
        percentage: 0,
        result: undefined,
        announced: false,
        progress: new Map(),
      };
      this.jobs.set(id, job);
      this.#trim();
    }
    return job;
  }

  #update(id, fields) {
    const job = this.#ensure(Number(id));
    if (!job) return;
    if (typeof fields.kind === 'string' && fields.kind) job.kind = fields.kind;
    // Queued while this page watched (not a job the daemon still kept from before).
    if (fields.announced) job.announced = true;
    if (typeof fields.state === 'string' && fields.state && !isFinal(job.state))
      job.state = fields.state;
    if (isFinal(job.state)) job.percentage = 100;
    this.dispatchEvent('changed', job);
  }

  #progress(id, row) {
    const job = this.#ensure(Number(id));
    if (!job || typeof row.plugin !== 'string') return;
    if (job.state === 'queued') job.state = 'running';
    job.progress.set(progressKey(row.plugin, row.resource), {
      plugin: row.plugin,
      resource: String(row.resource ?? ''),
      phase: String(row.phase ?? ''),
      percent: Number(row.percent) || 0,
      message: String(row.message ?? ''),
    });
    this.dispatchEvent('changed', job);
  }

  #fromProxy(proxy) {
    const id = Number.isInteger(proxy.Id) ? proxy.Id : jobIdFromPath(proxy.path);
    const job = this.#ensure(id);
    if (!job) return;
    if (typeof proxy.Kind === 'string' && proxy.Kind) job.kind = proxy.Kind;
    // A job's own State is the truth; a signal may only have raced ahead of it.
    if (
      typeof proxy.State === 'string' &&
      proxy.State &&
      !(isFinal(job.state) && !isFinal(proxy.State))
    )
      job.state = proxy.State;
    if (Number.isFinite(proxy.Percentage)) job.percentage = proxy.Percentage;
    const result = parseResult(proxy.Result);
    if (result) job.result = result;
    this.dispatchEvent('changed', job);
  }

  #trim() {
    const finished = this.list().filter((job) => isFinal(job.state));
    for (const job of finished.slice(KEPT)) this.jobs.delete(job.id);
  }
}
