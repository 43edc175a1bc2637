import type { Logger } from 'pino';
import type { Message } from '../../dbus/bus.js';
import type { ServicePeer } from '../../dbus/service-peer.js';
import type { ChangeScope } from '../../engine/plugin.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import { DNS_RESOURCES } from './model.js';
import { NM_INTERFACE, NM_PATH, SETTINGS_PATH } from './nm-client.js';
import type { NmSnapshot } from './nm-snapshot.js';

const PROPERTIES = 'org.freedesktop.DBus.Properties';
const OBJECT_PREFIXES = [
  '/org/freedesktop/NetworkManager/Devices/',
  '/org/freedesktop/NetworkManager/IP4Config/',
  '/org/freedesktop/NetworkManager/IP6Config/',
  '/org/freedesktop/NetworkManager/Settings/',
  '/org/freedesktop/NetworkManager/ActiveConnection/',
];

/**
 * The one place that reads NetworkManager's signals, each with one meaning,
 * published to the plugin's change feed (its only listener is the drift
 * monitor; the plugin keeps no cache):
 *
 * | Signal                                                       | Means              |
 * |--------------------------------------------------------------|--------------------|
 * | any signal on a device, IP config, profile or active         | that interface     |
 * | connection object (PropertiesChanged, StateChanged, Updated) |                    |
 * | Settings NewConnection / ConnectionRemoved                   | that interface     |
 * | DeviceAdded / DeviceRemoved                                  | that interface     |
 * | PropertiesChanged of GlobalDnsConfiguration                  | both DNS resources |
 * | an object path not seen yet; NetworkManager's owner changed  | everything         |
 *
 * Level-based: a notice never says what changed, only where to look. Signals
 * arrive only through the service's peer (so only from NetworkManager itself).
 * Object paths are mapped to interface names with what the last observation
 * read (devices, their IP configurations, profiles, active connections).
 */
export class NetworkSignals {
  private readonly names = new Map<string, string>();
  private unsubscribes: (() => void)[] = [];

  constructor(
    private readonly peer: ServicePeer,
    private readonly feed: ChangeFeed,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.unsubscribes.length > 0) return;
    this.unsubscribes = [
      this.peer.subscribe({}, (message) => this.onSignal(message)),
      // NetworkManager started, stopped or restarted: everything may differ.
      this.peer.onOwnerChanged(() => this.emit('all')),
    ];
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
  }

  /** Learns which object paths belong to which interface from an observation. */
  learn(snapshot: NmSnapshot): void {
    this.names.clear();
    for (const device of snapshot.devices) {
      for (const path of [
        device.path,
        device.ip4Config,
        device.ip6Config,
        device.activeConnection,
      ]) {
        if (path !== '/' && path !== '') this.names.set(path, device.name);
      }
    }
    for (const connection of snapshot.connections) {
      if (connection.view.name) this.names.set(connection.path, connection.view.name);
    }
  }

  private emit(scope: ChangeScope): void {
    this.log.debug({ scope }, 'network change noticed');
    this.feed.publish(scope);
  }

  private nameOf(path: string | undefined): ChangeScope {
    const name = path === undefined ? undefined : this.names.get(path);
    return name === undefined ? 'all' : [name];
  }

  private onSignal(message: Message): void {
    const path = message.path ?? '';
    const body = message.body as unknown[];
    if (path === NM_PATH) {
      this.onManagerSignal(message, body);
      return;
    }
    if (path === SETTINGS_PATH) {
      // NewConnection(o) / ConnectionRemoved(o): a profile for some interface.
      this.emit(this.nameOf(typeof body[0] === 'string' ? body[0] : undefined));
      return;
    }
    if (OBJECT_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      this.emit(this.nameOf(path));
    }
  }

  private onManagerSignal(message: Message, body: unknown[]): void {
    if (message.member === 'DeviceAdded' || message.member === 'DeviceRemoved') {
      this.emit(this.nameOf(typeof body[0] === 'string' ? body[0] : undefined));
      return;
    }
    if (message.interface === PROPERTIES && body[0] === NM_INTERFACE) {
      const changed = typeof body[1] === 'object' && body[1] !== null ? Object.keys(body[1]) : [];
      if (changed.includes('GlobalDnsConfiguration')) this.emit([...DNS_RESOURCES]);
    }
  }
}
