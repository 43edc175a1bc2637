import type { Logger } from 'pino';
import { ErrorName, OpdbusError } from '../errors.js';
import type { Job } from '../engine/job.js';
import type { PlanAction } from '../engine/reconciler.js';
import type { Ledger } from '../ledger/ledger.js';
import { Action, type Authorizer } from './authorization.js';
import type { StateManager } from '../engine/state-manager.js';
import type { InterfaceSpec } from './interface-xml.js';
import type { ServiceHost } from './service-host.js';

export const BUS_NAME = 'org.opdbus.StateManager';
export const OBJECT_PATH = '/org/opdbus/StateManager';
export const MANAGER_INTERFACE = 'org.opdbus.StateManager';
export const JOB_INTERFACE = 'org.opdbus.StateManager.Job';

export function jobPath(id: number): string {
  return `${OBJECT_PATH}/job/${id}`;
}

function requireInterface(interfaces: Map<string, InterfaceSpec>, name: string): InterfaceSpec {
  const spec = interfaces.get(name);
  if (!spec) throw new Error(`dbus-interfaces XML does not define ${name}`);
  return spec;
}

function stringArg(args: unknown[]): string {
  return String(args[0]);
}

/**
 * Puts the engine on the bus: the manager object, one object per job, and the
 * signals and PropertiesChanged that follow the engine's events.
 */
export class StateManagerService {
  private readonly manager: InterfaceSpec;
  private readonly job: InterfaceSpec;

  constructor(
    private readonly host: ServiceHost,
    private readonly engine: StateManager,
    private readonly authorizer: Authorizer,
    private readonly ledger: Ledger,
    interfaces: Map<string, InterfaceSpec>,
    private readonly version: string,
    private readonly log: Logger,
  ) {
    this.manager = requireInterface(interfaces, MANAGER_INTERFACE);
    this.job = requireInterface(interfaces, JOB_INTERFACE);
  }

  start(): void {
    this.host.export(OBJECT_PATH, [
      {
        spec: this.manager,
        methods: {
          // Changing methods ask first (root, or polkit), then validate: a caller
          // who may not apply learns nothing from Apply that Plan would not tell.
          Apply: async (args, call) => {
            const caller = await this.authorizer.authorize(
              call.sender,
              Action.apply,
              call.interactive,
            );
            return [jobPath((await this.engine.apply(stringArg(args), caller)).id)];
          },
          Plan: async (args) => [JSON.stringify(await this.engine.plan(stringArg(args)))],
          Query: async (args) => [JSON.stringify(await this.engine.query(args[0] as string[]))],
          GetDesiredState: () => [JSON.stringify(this.engine.desiredDocument)],
          Verify: async () => [JSON.stringify(await this.engine.verify())],
          Reconcile: async (_args, call) => {
            const caller = await this.authorizer.authorize(
              call.sender,
              Action.reconcile,
              call.interactive,
            );
            return [jobPath(this.engine.reconcile(caller).id)];
          },
          GetHistory: async (args) => [JSON.stringify(await this.ledger.history(Number(args[0])))],
          VerifyHistory: async () => [JSON.stringify(await this.ledger.verify())],
        },
        properties: () => this.managerProperties(),
      },
    ]);
    this.engine.on('job-new', this.onJobNew);
    this.engine.on('job-changed', this.onJobChanged);
    this.engine.on('job-removed', this.onJobRemoved);
    this.engine.on('job-evicted', this.onJobEvicted);
    this.engine.on('progress', this.onProgress);
    this.engine.on('state-changed', this.onStateChanged);
    this.engine.on('drift-detected', this.onDriftDetected);
  }

  stop(): void {
    this.engine.off('job-new', this.onJobNew);
    this.engine.off('job-changed', this.onJobChanged);
    this.engine.off('job-removed', this.onJobRemoved);
    this.engine.off('job-evicted', this.onJobEvicted);
    this.engine.off('progress', this.onProgress);
    this.engine.off('state-changed', this.onStateChanged);
    this.engine.off('drift-detected', this.onDriftDetected);
    this.host.unexport(OBJECT_PATH);
  }

  private managerProperties(): Record<string, unknown> {
    return {
      Version: this.version,
      Status: this.engine.status,
      Plugins: this.engine.pluginNames,
      DesiredGeneration: BigInt(this.engine.desiredGeneration),
      AppliedGeneration: BigInt(this.engine.appliedGeneration),
      LastReconcile: this.engine.lastReconcileUsec,
      DriftCount: this.engine.driftCount,
      Conditions: JSON.stringify(this.engine.conditions),
    };
  }

  private jobProperties(job: Job): Record<string, unknown> {
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
        spec: this.job,
        methods: {
          Cancel: async (_args, call) => {
            await this.authorizer.authorize(call.sender, Action.cancel, call.interactive);
            this.engine.cancel(this.liveJob(job.id));
            return [];
          },
        },
        properties: () => this.jobProperties(job),
      },
    ]);
    this.host.emitSignal(OBJECT_PATH, this.manager, 'JobNew', [job.id, jobPath(job.id), job.kind]);
  };

  private liveJob(id: number): Job {
    const job = this.engine.job(id);
    if (!job) throw new OpdbusError(ErrorName.JobFinished, `job ${id} is gone`);
    return job;
  }

  private readonly onJobChanged = (job: Job, changed: string[]): void => {
    const all = this.jobProperties(job);
    const values = Object.fromEntries(changed.map((name) => [name, all[name]]));
    this.host.emitPropertiesChanged(jobPath(job.id), this.job, values);
  };

  private readonly onJobRemoved = (job: Job, result: string): void => {
    this.host.emitSignal(OBJECT_PATH, this.manager, 'JobRemoved', [
      job.id,
      jobPath(job.id),
      result,
    ]);
  };

  private readonly onJobEvicted = (job: Job): void => {
    this.host.unexport(jobPath(job.id));
  };

  private readonly onProgress = (
    job: Job,
    plugin: string,
    report: { resource: string; phase: string; percent: number; message: string },
  ): void => {
    const percent = Math.max(0, Math.min(100, Math.round(report.percent)));
    this.host.emitSignal(OBJECT_PATH, this.manager, 'Progress', [
      job.id,
      plugin,
      report.resource,
      report.phase,
      percent,
      report.message,
    ]);
  };

  private readonly onDriftDetected = (drift: PlanAction): void => {
    this.host.emitSignal(OBJECT_PATH, this.manager, 'DriftDetected', [
      drift.plugin,
      drift.resource,
      JSON.stringify(drift.from),
      JSON.stringify(drift.to),
    ]);
  };

  private readonly onStateChanged = (changed: string[]): void => {
    const all = this.managerProperties();
    const values = Object.fromEntries(changed.map((name) => [name, all[name]]));
    this.host.emitPropertiesChanged(OBJECT_PATH, this.manager, values);
    this.log.debug({ changed }, 'properties changed');
  };
}
