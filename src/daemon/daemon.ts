import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import dbus from 'dbus-next';
import { BUS_NAME, OBJECT_PATH } from '../dbus/api.js';
import { Authorizer } from '../dbus/authorization.js';
import { CallerLimits } from '../dbus/caller-limits.js';
import { connectBus, onBusClosed, type MessageBus } from '../dbus/bus.js';
import { loadInterfaces } from '../dbus/interface-xml.js';
import { ServiceHost } from '../dbus/service-host.js';
import { StateManagerService } from '../dbus/state-manager-service.js';
import { buildDocumentSchema } from '../document/document.js';
import { DocumentValidator } from '../document/validator.js';
import { DriftMonitor } from '../engine/drift/drift-monitor.js';
import { DriftSchedule } from '../engine/drift/drift-schedule.js';
import type { EnginePlugin } from '../engine/plugin.js';
import { StateManager } from '../engine/state-manager.js';
import { JobRecorder } from '../ledger/job-recorder.js';
import { Ledger } from '../ledger/ledger.js';
import { PLUGINS } from '../plugins/registry.js';
import { DesiredStateFile } from '../state/desired-state-file.js';
import { PACKAGE_ROOT, VERSION } from '../version.js';
import { CheckpointFile } from '../engine/checkpoints/checkpoint-file.js';
import { recoverCheckpoint } from './checkpoint-recovery.js';
import { BusPool } from './bus-pool.js';
import type { Config } from './config.js';
import type { FleetNode } from './fleet-node.js';
import { createPlugins } from './plugins.js';
import type { SdNotify } from './sd-notify.js';

export const DEFAULT_INTERFACE_FILE = fileURLToPath(
  new URL('dbus-interfaces/org.opdbus.StateManager.xml', PACKAGE_ROOT),
);

export interface DaemonContext {
  log: Logger;
  notify: SdNotify;
  /** Called when a bus connection is lost: the caller exits non-zero. */
  onBusLost: () => void;
}

/** Every long-lived piece of a running daemon. */
interface DaemonParts {
  bus: MessageBus;
  buses: BusPool;
  plugins: EnginePlugin[];
  engine: StateManager;
  host: ServiceHost;
  service: StateManagerService;
  drift: DriftMonitor;
  schedule: DriftSchedule;
  ledger: Ledger;
  recorder: JobRecorder;
  context: DaemonContext;
  fleet?: FleetNode | undefined;
}

/** Settings that only take effect at start-up. */
const RESTART_SETTINGS = [
  'bus',
  'stateDir',
  'jobRetentionSeconds',
  'driftCorrection',
  'maxRetainedJobs',
  'maxReadsPerUid',
  'maxUnprivilegedDocumentBytes',
] as const;

/** The running daemon: every long-lived piece, started in order and stopped in reverse. */
export class Daemon {
  private constructor(private readonly parts: DaemonParts) {}

  /**
   * Connects, starts plugins, exports the API, loads the persisted desired state,
   * owns the bus name and only then says READY=1; the first reconcile follows.
   */
  static async start(config: Config, context: DaemonContext): Promise<Daemon> {
    const { log, notify } = context;
    const interfaces = await loadInterfaces(DEFAULT_INTERFACE_FILE);
    notify.status('connecting to the bus');
    const bus = await connectBus(config.bus);
    bus.on('error', (err: unknown) => log.error({ err }, 'bus connection error'));
    onBusClosed(bus, context.onBusLost);
    const buses = new BusPool(log, context.onBusLost);
    buses.adopt('system', bus);
    const plugins = createPlugins(PLUGINS, config.plugins, {
      log,
      buses,
      stateDir: config.stateDir,
    });
    for (const plugin of plugins) await plugin.instance.start();
    const validator = new DocumentValidator(buildDocumentSchema(PLUGINS));
    const stateFile = new DesiredStateFile(config.stateDir, log);
    const checkpointFile = new CheckpointFile(config.stateDir, log);
    // etcd's client (gRPC, protobuf) is loaded only by a fleet node: ~100 ms of start-up.
    const fleetModule = config.fleet ? await import('./fleet-node.js') : undefined;
    const fleetSettings =
      config.fleet && fleetModule ? await fleetModule.FleetNode.settings(config.fleet) : undefined;
    const engine = new StateManager({
      groups: fleetSettings?.groups ?? [],
      plugins,
      validator,
      store: stateFile,
      checkpointStore: checkpointFile,
      log,
      jobRetentionMs: config.jobRetentionSeconds * 1000,
      maxRetainedJobs: config.maxRetainedJobs,
    });
    const ledger = new Ledger(config.stateDir, log);
    await ledger.open();
    const recorder = new JobRecorder(
      engine.events,
      ledger,
      log,
      () => engine.checkpoints.jobs().job?.id,
    );
    recorder.start();
    const host = new ServiceHost(bus, log, OBJECT_PATH);
    const authorizer = new Authorizer(bus, log);
    const limits = new CallerLimits(config, authorizer);
    const service = new StateManagerService({
      host,
      engine,
      authorizer,
      limits,
      ledger,
      interfaces,
      version: VERSION,
      log,
    });
    service.start();
    const persisted = await stateFile.load(validator);
    const drift = new DriftMonitor(engine, { log, correct: config.driftCorrection });
    const schedule = new DriftSchedule(() => drift.checkAll(), log);
    const daemon = new Daemon({
      bus,
      buses,
      plugins,
      engine,
      host,
      service,
      drift,
      schedule,
      ledger,
      recorder,
      context,
    });
    await daemon.ownName(bus);
    const state = persisted
      ? `desired state loaded from ${stateFile.path}`
      : 'no desired state yet';
    engine.markReady();
    notify.ready(`serving ${BUS_NAME}; ${state}`);
    notify.startWatchdog();
    log.info(
      { busName: BUS_NAME, version: VERSION, plugins: engine.pluginNames, state },
      'daemon ready',
    );
    const fleetLayers = await stateFile.loadLayers(validator);
    if (persisted || fleetLayers.length > 0) engine.restore(persisted, fleetLayers);
    await recoverCheckpoint(engine, checkpointFile, log);
    drift.start();
    // Needs no etcd to start: the node goes on with its persisted layers until etcd answers.
    daemon.parts.fleet =
      fleetSettings && fleetModule
        ? await fleetModule.FleetNode.start(fleetSettings, engine, ledger, log)
        : undefined;
    await schedule.start(config.driftSchedule);
    engine.events.on('changed', daemon.onStateChanged);
    return daemon;
  }

  /** SIGHUP: what can change while running does; the rest needs a restart. */
  async reload(config: Config, previous: Config): Promise<void> {
    const { log } = this.parts.context;
    log.level = config.logLevel;
    if (config.driftSchedule !== previous.driftSchedule)
      await this.parts.schedule.start(config.driftSchedule);
    const needsRestart: string[] = RESTART_SETTINGS.filter((key) => config[key] !== previous[key]);
    if (JSON.stringify(config.plugins) !== JSON.stringify(previous.plugins))
      needsRestart.push('plugins');
    if (JSON.stringify(config.fleet) !== JSON.stringify(previous.fleet)) needsRestart.push('fleet');
    if (needsRestart.length > 0)
      log.warn({ settings: needsRestart }, 'these settings take effect after a restart');
    log.info('configuration reloaded');
  }

  private readonly onStateChanged = (): void => {
    const { engine, context } = this.parts;
    context.notify.status(
      `${engine.status}; desired generation ${engine.desiredGeneration}, applied ${engine.appliedGeneration}`,
    );
  };

  private async ownName(bus: MessageBus): Promise<void> {
    const reply = await bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
    if (
      reply !== dbus.RequestNameReply.PRIMARY_OWNER &&
      reply !== dbus.RequestNameReply.ALREADY_OWNER
    ) {
      throw new Error(`${BUS_NAME} is already owned by another process`);
    }
  }

  /** Finishes or cancels the running job, then leaves the bus. */
  async stop(): Promise<void> {
    const { log, notify } = this.parts.context;
    log.info('daemon stopping');
    notify.stopping('stopping: cancelling the running job');
    this.parts.engine.events.off('changed', this.onStateChanged);
    await this.parts.fleet?.stop();
    await this.parts.schedule.stop();
    this.parts.drift.stop();
    await this.parts.engine.stop();
    // Jobs cancelled by the stop are recorded too.
    await this.parts.ledger.flush();
    this.parts.recorder.stop();
    this.parts.service.stop();
    this.parts.host.stop();
    for (const plugin of [...this.parts.plugins].reverse()) await plugin.instance.stop();
    await this.parts.buses.stop();
    try {
      await this.parts.bus.releaseName(BUS_NAME);
    } catch (err) {
      log.warn({ err }, 'could not release the bus name');
    }
    this.parts.bus.disconnect();
    notify.close();
  }
}
