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
import type { AnyPlugin } from '../engine/plugin.js';
import { StateManager } from '../engine/state-manager.js';
import type { PluginSettings } from '../plugins/definition.js';
import { createPlugins } from '../plugins/registry.js';
import { PACKAGE_ROOT, VERSION } from '../version.js';

export interface DaemonOptions {
  /** 'system' (DBUS_SYSTEM_BUS_ADDRESS or the default socket) or a D-Bus address. */
  busAddress: string;
  /** Which systemd manager to drive: 'system' (the daemon's bus), 'user' ($XDG_RUNTIME_DIR/bus) or an address. */
  systemdBus: string;
  interfaceFile: string;
  jobRetentionMs: number;
  maxRetainedJobs: number;
  plugins: PluginSettings;
}

export const DEFAULT_INTERFACE_FILE = fileURLToPath(
  new URL('dbus-interfaces/org.opdbus.StateManager.xml', PACKAGE_ROOT),
);

/**
 * The systemd manager's bus: the daemon's own connection when it is the system
 * bus, else a second connection whose loss is as fatal as the first's.
 */
async function connectSystemdBus(
  address: string,
  systemBus: MessageBus,
  systemRouter: SignalRouter,
  log: Logger,
  onBusLost: () => void,
): Promise<{ bus: MessageBus; router: SignalRouter }> {
  if (address === 'system') return { bus: systemBus, router: systemRouter };
  const resolved =
    address === 'user' ? `unix:path=${process.env.XDG_RUNTIME_DIR ?? '/run/user/0'}/bus` : address;
  const bus = await connectBus(resolved);
  bus.on('error', (err: unknown) => log.error({ err }, 'systemd bus connection error'));
  onBusClosed(bus, onBusLost);
  return { bus, router: new SignalRouter(bus) };
}

/** The running daemon: every long-lived piece, started in order and stopped in reverse. */
export class Daemon {
  private constructor(
    private readonly bus: MessageBus,
    private readonly router: SignalRouter,
    private readonly plugins: AnyPlugin[],
    private readonly engine: StateManager,
    private readonly host: ServiceHost,
    private readonly service: StateManagerService,
    private readonly log: Logger,
  ) {}

  /** Connects, starts plugins, exports the API and owns the bus name, in that order. */
  static async start(options: DaemonOptions, log: Logger, onBusLost: () => void): Promise<Daemon> {
    const interfaces = await loadInterfaces(options.interfaceFile);
    const bus = await connectBus(options.busAddress);
    bus.on('error', (err: unknown) => log.error({ err }, 'bus connection error'));
    onBusClosed(bus, onBusLost);
    const router = new SignalRouter(bus);
    const systemd = await connectSystemdBus(options.systemdBus, bus, router, log, onBusLost);
    const plugins = createPlugins({
      systemBus: bus,
      systemRouter: router,
      systemdBus: systemd.bus,
      systemdRouter: systemd.router,
      log,
      settings: options.plugins,
    });
    for (const plugin of plugins) await plugin.start();
    const engine = new StateManager({
      plugins,
      validator: new DocumentValidator(buildDocumentSchema(plugins)),
      log,
      jobRetentionMs: options.jobRetentionMs,
      maxRetainedJobs: options.maxRetainedJobs,
    });
    const host = new ServiceHost(bus, log, OBJECT_PATH);
    const service = new StateManagerService(host, engine, interfaces, VERSION, log);
    service.start();
    const daemon = new Daemon(bus, router, plugins, engine, host, service, log);
    await daemon.ownName();
    log.info({ busName: BUS_NAME, version: VERSION, plugins: engine.pluginNames }, 'daemon ready');
    return daemon;
  }

  private async ownName(): Promise<void> {
    const reply = await this.bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
    if (
      reply !== dbus.RequestNameReply.PRIMARY_OWNER &&
      reply !== dbus.RequestNameReply.ALREADY_OWNER
    ) {
      throw new Error(`${BUS_NAME} is already owned by another process`);
    }
  }

  /** Finishes or cancels the running job, then leaves the bus. */
  async stop(): Promise<void> {
    this.log.info('daemon stopping');
    await this.engine.stop();
    this.service.stop();
    this.host.stop();
    for (const plugin of [...this.plugins].reverse()) await plugin.stop();
    this.router.stop();
    try {
      await this.bus.releaseName(BUS_NAME);
    } catch (err) {
      this.log.warn({ err }, 'could not release the bus name');
    }
    this.bus.disconnect();
  }
}
