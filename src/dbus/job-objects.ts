import type { Authorizer } from './authorization.js';
import { Action } from './authorization.js';
import { JOB_FIELD_PROPERTY, jobPath, OBJECT_PATH } from './api.js';
import type { JobField } from '../engine/events.js';
import type { FinalJobState, Job } from '../engine/jobs/job.js';
import type { StateManager } from '../engine/state-manager.js';
import { ErrorName, OpdbusError } from '../errors.js';
import type { InterfaceSpec } from './interface-xml.js';
import type { ServiceHost } from './service-host.js';

/**
 * One object per job (`/org/opdbus/StateManager/job/ID`): Cancel and the job's
 * properties, with PropertiesChanged as it runs; the object goes when the
 * engine stops retaining the job. The manager's JobNew is sent only once the
 * object exists, and JobRemoved once its final properties are announced.
 */
export class JobObjects {
  constructor(
    private readonly host: ServiceHost,
    private readonly engine: StateManager,
    private readonly authorizer: Authorizer,
    private readonly spec: InterfaceSpec,
    private readonly managerSpec: InterfaceSpec,
  ) {}

  start(): void {
    this.engine.events.on('job-new', this.onJobNew);
    this.engine.events.on('job-changed', this.onJobChanged);
    this.engine.events.on('job-removed', this.onJobRemoved);
    this.engine.events.on('job-evicted', this.onJobEvicted);
  }

  stop(): void {
    this.engine.events.off('job-new', this.onJobNew);
    this.engine.events.off('job-changed', this.onJobChanged);
    this.engine.events.off('job-removed', this.onJobRemoved);
    this.engine.events.off('job-evicted', this.onJobEvicted);
  }

  private properties(job: Job): Record<string, unknown> {
    return {
      Id: job.id,
      Kind: job.kind,
      State: job.state,
      Percentage: job.percentage,
      Result: job.result ? JSON.stringify(job.result) : '',
    };
  }

  private readonly onJobNew = (job: Job): void => {
    this.host.export(jobPath(job.id), [
      {
        spec: this.spec,
        methods: {
          Cancel: async (_args, call) => {
            await this.authorizer.authorize(call.sender, Action.cancel, call.interactive);
            const live = this.engine.jobs.get(job.id);
            if (!live) throw new OpdbusError(ErrorName.JobFinished, `job ${job.id} is gone`);
            this.engine.cancel(live);
            return [];
          },
        },
        properties: () => this.properties(job),
      },
    ]);
    this.host.emitSignal(OBJECT_PATH, this.managerSpec, 'JobNew', [
      job.id,
      jobPath(job.id),
      job.kind,
    ]);
  };

  private readonly onJobRemoved = (job: Job, state: FinalJobState): void => {
    this.host.emitSignal(OBJECT_PATH, this.managerSpec, 'JobRemoved', [
      job.id,
      jobPath(job.id),
      state,
    ]);
  };

  private readonly onJobChanged = (job: Job, changed: JobField[]): void => {
    const all = this.properties(job);
    const values = Object.fromEntries(
      changed.map((field) => [JOB_FIELD_PROPERTY[field], all[JOB_FIELD_PROPERTY[field]]]),
    );
    this.host.emitPropertiesChanged(jobPath(job.id), this.spec, values);
  };

  private readonly onJobEvicted = (job: Job): void => {
    this.host.unexport(jobPath(job.id));
  };
}
