// The page's one connection to op-dbus: a cockpit.dbus client on the system bus,
// the manager's proxy (properties + PropertiesChanged, signals as events), and
// what the daemon's introspection says it can do.

export const BUS_NAME = 'org.opdbus.StateManager';
export const MANAGER_PATH = '/org/opdbus/StateManager';
export const MANAGER_INTERFACE = 'org.opdbus.StateManager';
export const JOB_INTERFACE = 'org.opdbus.StateManager.Job';

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

  /** Names of the objects under a path, from its introspection. */
  const children = async (path) => {
    const [xml] = await client.call(path, 'org.freedesktop.DBus.Introspectable', 'Introspect', []);
    const parsed = new DOMParser().parseFromString(String(xml), 'text/xml');
    return [...parsed.documentElement.children]
      .filter((node) => node.tagName === 'node' && node.getAttribute('name'))
      .map((node) => `${path}/${node.getAttribute('name')}`);
  };

  return { client, manager, capabilities, call, children };
}
