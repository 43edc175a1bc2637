import type { Logger } from 'pino';
import type { ManagerFact } from '../engine/events.js';
import type { Job } from '../engine/jobs/job.js';
import type { ProgressReport } from '../engine/plugin.js';
import type { PlanAction, QueryAnswer } from '../engine/reconciler.js';
import type { StateManager } from '../engine/state-manager.js';
import type { Ledger } from '../ledger/ledger.js';
import {
  CHECKPOINT_INTERFACE,
  checkpointPath,
  FACT_PROPERTY,
  JOB_INTERFACE,
  jobPath,
  MANAGER_INTERFACE,
  OBJECT_PATH,
} from './api.js';
import { CheckpointObjects } from './checkpoint-objects.js';
import { Action, type Authorizer } from './authorization.js';
import type { InterfaceSpec } from './interface-xml.js';
import { JobObjects } from './job-objects.js';
import type { CallerLimits } from './caller-limits.js';
import type { MethodHandler, ServiceHost } from './service-host.js';

function requireInterface(interfaces: Map<string, InterfaceSpec>, name: string): InterfaceSpec {
  const spec = interfaces.get(name);
  if (!spec) throw new Error(`dbus-interfaces XML does not define ${name}`);
  return spec;
}

function stringArg(args: unknown[]): string {
  return String(args[0]);
}

/** The size of a document argument (Plan's), 0 for calls without one. */
function documentBytes(args: unknown[]): number {
  return typeof args[0] === 'string' ? Buffer.byteLength(args[0], 'utf8') : 0;
}

/** Query's answer: the document, plus the plugins it could not read when there are any. */
function queryJson({ document, unreadable }: QueryAnswer): string {
  return JSON.stringify(
    Object.keys(unreadable).length > 0 ? { ...document, unreadable } : document,
  );
}

export interface ServiceDependencies {
  host: ServiceHost;
  engine: StateManager;
  authorizer: Authorizer;
  limits: CallerLimits;
  ledger: Ledger;
  interfaces: Map<string, InterfaceSpec>;
  version: string;
  log: Logger;
}

/**
 * Puts the engine on the bus: the manager object with its methods, properties
 * and signals, and the job objects (JobObjects). Listens to the engine's events;
 * the engine knows nothing of D-Bus.
 */
export class StateManagerService {
  private readonly manager: InterfaceSpec;
  private readonly jobObjects: JobObjects;
  private readonly checkpointObjects: CheckpointObjects;

  constructor(private readonly deps: ServiceDependencies) {
    this.manager = requireInterface(deps.interfaces, MANAGER_INTERFACE);
    this.jobObjects = new JobObjects(
      deps.host,
      deps.engine,
      deps.authorizer,
      requireInterface(deps.interfaces, JOB_INTERFACE),
      this.manager,
    );
    this.checkpointObjects = new CheckpointObjects(
      deps.host,
      deps.engine,
      deps.authorizer,
      requireInterface(deps.interfaces, CHECKPOINT_INTERFACE),
      this.manager,
    );
  }

  start(): void {
    const { engine, authorizer, ledger, limits } = this.deps;
    // Reads are open to every local user, within that user's limits.
    const read =
      (handler: (args: unknown[]) => unknown[] | Promise<unknown[]>): MethodHandler =>
      (args, call) =>
        limits.read(call.sender, documentBytes(args), async () => handler(args));
    this.deps.host.export(OBJECT_PATH, [
      {
        spec: this.manager,
        methods: {
          // Changing methods ask first (root, or polkit), then validate: a caller
          // who may not apply learns nothing from Apply that Plan would not tell.
          Apply: async (args, call) => {
            const caller = await authorizer.authorize(call.sender, Action.apply, call.interactive);
            return [jobPath((await engine.apply(stringArg(args), caller)).id)];
          },
          ApplyConfirmed: async (args, call) => {
            const caller = await authorizer.authorize(call.sender, Action.apply, call.interactive);
            const { job, checkpoint } = await engine.applyConfirmed(
              stringArg(args),
              Number(args[1]),
              caller,
            );
            return [jobPath(job.id), checkpointPath(checkpoint.id)];
          },
          Plan: read(async (args) => [JSON.stringify(await engine.plan(stringArg(args)))]),
          Query: read(async (args) => [queryJson(await engine.query(args[0] as string[]))]),
          GetDesiredState: read(() => [JSON.stringify(engine.desiredDocument)]),
          GetDesiredLayers: read(() => [JSON.stringify({ layers: engine.desired.layers() })]),
          Verify: read(async () => [JSON.stringify(await engine.verify())]),
          Reconcile: async (_args, call) => {
            const caller = await authorizer.authorize(
              call.sender,
              Action.reconcile,
              call.interactive,
            );
            return [jobPath(engine.reconcile(caller).id)];
          },
          GetHistory: read(async (args) => [JSON.stringify(await ledger.history(Number(args[0])))]),
          VerifyHistory: read(async () => [JSON.stringify(await ledger.verify())]),
        },
        properties: () => this.managerProperties(),
      },
    ]);
    this.jobObjects.start();
    this.checkpointObjects.start();
    engine.events.on('progress', this.onProgress);
    engine.events.on('changed', this.onChanged);
    engine.events.on('drift-detected', this.onDriftDetected);
  }

  stop(): void {
    const { events } = this.deps.engine;
    this.jobObjects.stop();
    this.checkpointObjects.stop();
    events.off('progress', this.onProgress);
    events.off('changed', this.onChanged);
    events.off('drift-detected', this.onDriftDetected);
    this.deps.host.unexport(OBJECT_PATH);
  }

  private managerProperties(): Record<string, unknown> {
    const { engine } = this.deps;
    return {
      Version: this.deps.version,
      Status: engine.status,
      Plugins: engine.pluginNames,
      DesiredGeneration: BigInt(engine.desiredGeneration),
      AppliedGeneration: BigInt(engine.appliedGeneration),
      LastReconcile: engine.health.lastReconcileUsec,
      DriftCount: engine.health.driftCount,
      Conditions: JSON.stringify(engine.health.conditions),
      PendingCheckpoint: engine.checkpoints.pending
        ? checkpointPath(engine.checkpoints.pending.id)
        : '/',
    };
  }

  private readonly onProgress = (job: Job, plugin: string, report: ProgressReport): void => {
    const percent = Math.max(0, Math.min(100, Math.round(report.percent)));
    this.deps.host.emitSignal(OBJECT_PATH, this.manager, 'Progress', [
      job.id,
      plugin,
      report.resource,
      report.phase,
      percent,
      report.message,
    ]);
  };

  private readonly onDriftDetected = (drift: PlanAction): void => {
    this.deps.host.emitSignal(OBJECT_PATH, this.manager, 'DriftDetected', [
      drift.plugin,
      drift.resource,
      JSON.stringify(drift.from),
      JSON.stringify(drift.to),
    ]);
  };

  private readonly onChanged = (facts: ManagerFact[]): void => {
    const all = this.managerProperties();
    const names = [...new Set(facts.map((fact) => FACT_PROPERTY[fact]))];
    const values = Object.fromEntries(names.map((name) => [name, all[name]]));
    this.deps.host.emitPropertiesChanged(OBJECT_PATH, this.manager, values);
    this.deps.log.debug({ changed: names }, 'properties changed');
  };
}
