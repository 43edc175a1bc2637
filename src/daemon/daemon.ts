import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import dbus from 'dbus-next';
import { connectBus, onBusClosed, type MessageBus } from '../dbus/bus.js';
import { loadInterfaces } from '../dbus/interface-xml.js';
import { ServiceHost } from '../dbus/service-host.js';
import { SignalRouter } from '../dbus/signal-router.js';
import { BUS_NAME, OBJECT_PATH, StateManagerService } from '../dbus/state-manager-service.js';
import { buildDocumentSchema } from '../document/document.js';
import { DocumentValidator } from '../document/validator.js';
import { DriftMonitor } from '../engine/drift-monitor.js';
import type { AnyPlugin } from '../engine/plugin.js';
import { StateManager } from '../engine/state-manager.js';
import { createPlugins } from '../plugins/registry.js';
import { DesiredStateFile } from '../state/desired-state-file.js';
import { Authorizer } from '../dbus/authorization.js';
import { JobRecorder } from '../ledger/job-recorder.js';
import { Ledger } from '../ledger/ledger.js';
import { PACKAGE_ROOT, VERSION } from '../version.js';
import type { Config } from './config.js';
import { DriftSchedule } from './drift-schedule.js';
import type { SdNotify } from './sd-notify.js';

export const DEFAULT_INTERFACE_FILE = fileURLToPath(
  new URL('dbus-interfaces/org.opdbus.StateManager.xml', PACKAGE_ROOT),
);

const DPKG_STATUS_FILE = '/var/lib/dpkg/status';

/** Engine-owned timing of drift correction (not configuration: sane for every host). */
const DRIFT_TIMING = { debounceMs: 200, initialBackoffMs: 2_000, maxBackoffMs: 15 * 60_000 };

export interface DaemonContext {
  log: Logger;
  notify: SdNotify;
  /** Called when a bus connection is lost: the caller exits non-zero. */
  onBusLost: () => void;
}

/**
 * The systemd manager's bus: the daemon's own connection when it is the system
 * bus, else a second connection whose loss is as fatal as the first's.
 */
async function connectSystemdBus(
  address: string,
  systemBus: MessageBus,
  systemRouter: SignalRouter,
  context: DaemonContext,
): Promise<{ bus: MessageBus; router: SignalRouter }> {
  if (address === 'system') return { bus: systemBus, router: systemRouter };
  const resolved =
    address === 'user' ? `unix:path=${process.env.XDG_RUNTIME_DIR ?? '/run/user/0'}/bus` : address;
  const bus = await connectBus(resolved);
  bus.on('error', (err: unknown) => context.log.error({ err }, 'systemd bus connection error'));
  onBusClosed(bus, context.onBusLost);
  return { bus, router: new SignalRouter(bus) };
}

/** Every long-lived piece of a running daemon. */
interface DaemonParts {
  buses: MessageBus[];
  routers: SignalRouter[];
  plugins: AnyPlugin[];
  engine: StateManager;
  host: ServiceHost;
  service: StateManagerService;
  drift: DriftMonitor;
  schedule: DriftSchedule;
  ledger: Ledger;
  recorder: JobRecorder;
  context: DaemonContext;
}

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
    const router = new SignalRouter(bus);
    const systemd = await connectSystemdBus(config.systemdBus, bus, router, context);
    const plugins = createPlugins({
      systemBus: bus,
      systemRouter: router,
      systemdBus: systemd.bus,
      systemdRouter: systemd.router,
      log,
      settings: {
        packagekit: { onlyTrusted: !config.allowUntrusted, dpkgStatusFile: DPKG_STATUS_FILE },
      },
    });
    for (const plugin of plugins) await plugin.start();
    const validator = new DocumentValidator(buildDocumentSchema(plugins));
    const stateFile = new DesiredStateFile(config.stateDir, log);
    const engine = new StateManager({
      plugins,
      validator,
      store: stateFile,
      log,
      jobRetentionMs: config.jobRetentionSeconds * 1000,
      maxRetainedJobs: config.maxRetainedJobs,
    });
    const ledger = new Ledger(config.stateDir, log);
    await ledger.open();
    const recorder = new JobRecorder(engine, ledger, log);
    recorder.start();
    const host = new ServiceHost(bus, log, OBJECT_PATH);
    const authorizer = new Authorizer(bus, log);
    const service = new StateManagerService(
      host,
      engine,
      authorizer,
      ledger,
      interfaces,
      VERSION,
      log,
    );
    service.start();
    const persisted = await stateFile.load(validator);
    const drift = new DriftMonitor(engine, {
      log,
      correct: config.driftCorrection,
      ...DRIFT_TIMING,
    });
    const schedule = new DriftSchedule(() => drift.checkAll(), log);
    const daemon = new Daemon({
      buses: [...new Set([bus, systemd.bus])],
      routers: [...new Set([router, systemd.router])],
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
    engine.markReady(state);
    notify.ready(`serving ${BUS_NAME}; ${state}`);
    notify.startWatchdog();
    log.info(
      { busName: BUS_NAME, version: VERSION, plugins: engine.pluginNames, state },
      'daemon ready',
    );
    if (persisted) engine.restore(persisted);
    drift.start();
    await schedule.start(config.driftSchedule);
    engine.on('state-changed', daemon.onStateChanged);
    return daemon;
  }

  /** SIGHUP: what can change while running does; the rest needs a restart. */
  async reload(config: Config, previous: Config): Promise<void> {
    this.parts.context.log.level = config.logLevel;
    if (config.driftSchedule !== previous.driftSchedule)
      await this.parts.schedule.start(config.driftSchedule);
    const needsRestart = (
      [
        'bus',
        'stateDir',
        'systemdBus',
        'allowUntrusted',
        'jobRetentionSeconds',
        'driftCorrection',
        'maxRetainedJobs',
      ] as const
    ).filter((key) => config[key] !== previous[key]);
    if (needsRestart.length > 0)
      this.parts.context.log.warn(
        { settings: needsRestart },
        'these settings take effect after a restart',
      );
    this.parts.context.log.info('configuration reloaded');
  }

  private readonly onStateChanged = (): void => {
    this.parts.context.notify.status(
      `${this.parts.engine.status}; desired generation ${this.parts.engine.desiredGeneration}, applied ${this.parts.engine.appliedGeneration}`,
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
    this.parts.engine.off('state-changed', this.onStateChanged);
    await this.parts.schedule.stop();
    this.parts.drift.stop();
    await this.parts.engine.stop();
    // Jobs cancelled by the stop are recorded too.
    await this.parts.ledger.flush();
    this.parts.recorder.stop();
    this.parts.service.stop();
    this.parts.host.stop();
    for (const plugin of [...this.parts.plugins].reverse()) await plugin.stop();
    for (const router of this.parts.routers) router.stop();
    const [bus] = this.parts.buses;
    try {
      await bus?.releaseName(BUS_NAME);
    } catch (err) {
      log.warn({ err }, 'could not release the bus name');
    }
    for (const connection of this.parts.buses) connection.disconnect();
    notify.close();
  }
}
