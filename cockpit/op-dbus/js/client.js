// The page's one connection to op-dbus: a cockpit.dbus client on the system bus,
// the manager's proxy (properties + PropertiesChanged, signals as events), and
// what the daemon's introspection says it can do.

export const BUS_NAME = 'org.opdbus.StateManager';
export const MANAGER_PATH = '/org/opdbus/StateManager';
export const MANAGER_INTERFACE = 'org.opdbus.StateManager';
export const JOB_INTERFACE = 'org.opdbus.StateManager.Job';
const PROPERTIES = 'org.freedesktop.DBus.Properties';

/**
 * Members of the daemon's interfaces as its introspection lists them. Optional
 * features (confirm/rollback, fleet) show only when their members are present, so
 * one page works against older and newer daemons.
 */
export class Capabilities {
  constructor() {
    this.interfaces = new Map();
  }

  /** Takes cockpit's "meta" (introspection) data: {iface: {methods, properties, signals}}. */
  learn(meta) {
    for (const [name, info] of Object.entries(meta ?? {})) {
      const members = new Set();
      for (const kind of ['methods', 'properties', 'signals'])
        for (const member of Object.keys(info?.[kind] ?? {})) members.add(member);
      this.interfaces.set(name, members);
    }
  }

  has(iface, member) {
    return this.interfaces.get(iface)?.has(member) ?? false;
  }

  /** True when every named member of the manager interface exists. */
  manager(...members) {
    return members.every((member) => this.has(MANAGER_INTERFACE, member));
  }
}

/**
 * Opens the client. `superuser: 'try'`: with Cockpit's administrative access on,
 * calls go out as root; otherwise as the logged-in user, and the daemon (polkit)
 * decides what they may change.
 */
export function connect() {
  const client = cockpit.dbus(BUS_NAME, { bus: 'system', superuser: 'try' });
  const capabilities = new Capabilities();
  // Registered before anything arrives: the bridge sends introspection as "meta".
  client.addEventListener('meta', (_event, meta) => capabilities.learn(meta));
  const manager = client.proxy(MANAGER_INTERFACE, MANAGER_PATH);

  /** Calls a manager method; resolves with its out arguments (an array). */
  const call = (method, args = [], path = MANAGER_PATH, iface = MANAGER_INTERFACE) =>
    client.call(path, iface, method, args);

  // A restarted daemon (a new owner of the name) does not announce its properties
  // again, and the bridge keeps the old ones: read them once into cockpit's cache,
  // which fires the proxy's 'changed' like PropertiesChanged would.
  const refreshManager = async () => {
    try {
      const [all] = await call('GetAll', [MANAGER_INTERFACE], MANAGER_PATH, PROPERTIES);
      const values = Object.fromEntries(
        Object.entries(all ?? {}).map(([name, variant]) => [name, variant?.v]),
      );
      client.notify({ [MANAGER_PATH]: { [MANAGER_INTERFACE]: values } });
    } catch {
      // gone again: the next owner change reads them
    }
  };
  let owner;
  client.addEventListener('owner', (_event, next) => {
    if (next && owner !== undefined && next !== owner) void refreshManager();
    owner = next;
  });

  return { client, manager, capabilities, call };
}

/**
 * When op-dbus is not running as the page opens, Cockpit closes the client
 * ("not-found"). Reloads the page once the name appears (NameOwnerChanged).
 */
export function reloadWhenDaemonAppears() {
  const bus = cockpit.dbus(null, { bus: 'system', superuser: 'try' });
  bus.subscribe(
    {
      name: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'NameOwnerChanged',
      arg0: BUS_NAME,
    },
    (_path, _iface, _signal, [, , newOwner]) => {
      if (newOwner) window.location.reload();
    },
  );
}
