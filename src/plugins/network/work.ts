import {
  DNS_RESOURCES,
  declaredPorts,
  desiredState,
  isSoftwareType,
  parentOf,
  routeMatches,
  routeResource,
  type PlannedChange,
} from './model.js';
import type { ControllerRef } from './nm-settings.js';
import type { ConnectionSnapshot, DeviceSnapshot, NmSnapshot } from './nm-snapshot.js';
import { entriesByName, observeNetwork } from './observe.js';
import type { NetworkInterface, NetworkSection, RouteEntry } from './schema.js';

/**
 * The changes of a plan -> the NetworkManager operations that make them. Pure:
 * works on a snapshot read at the start of the apply.
 */

/** Deletes every profile of an interface, and its software device. */
export interface RemoveOp {
  kind: 'remove';
  name: string;
  profiles: ConnectionSnapshot[];
  device: DeviceSnapshot | undefined;
  deleteDevice: boolean;
  resources: string[];
}

/** Writes (adds or updates) an interface's profile, then brings it to `state`. */
export interface WriteOp {
  kind: 'write';
  name: string;
  /** The document's keys to write; for an interface the document does not name, only what must change. */
  iface: NetworkInterface;
  controller?: ControllerRef | null;
  routes?: RouteEntry[];
  profile: ConnectionSnapshot | undefined;
  device: DeviceSnapshot | undefined;
  state: 'up' | 'down';
  /** Parents and controllers come before what depends on them. */
  depth: number;
  resources: string[];
}

export interface NetworkWork {
  removes: RemoveOp[];
  writes: WriteOp[];
  /** Whether the global DNS changes. */
  dns: boolean;
  /** Devices the changes touch (for the checkpoint). */
  devices: string[];
}

const controllerKind = (iface: NetworkInterface): ControllerRef['kind'] =>
  iface.type === 'bond' ? 'bond' : 'bridge';

function depthOf(
  name: string,
  desired: Map<string, NetworkInterface>,
  controllerOf: Map<string, string>,
): number {
  const seen = new Set<string>();
  const walk = (current: string): number => {
    if (seen.has(current)) return 0;
    seen.add(current);
    const iface = desired.get(current);
    const deps = [iface && parentOf(iface), controllerOf.get(current)].filter(
      (dep): dep is string => dep !== undefined,
    );
    return deps.length === 0 ? 0 : 1 + Math.max(...deps.map(walk));
  };
  return walk(name);
}

export function planWork(
  changes: readonly PlannedChange[],
  desired: NetworkSection,
  snapshot: NmSnapshot,
): NetworkWork {
  const entries = entriesByName(snapshot);
  const observed = observeNetwork(snapshot);
  const named = new Map((desired.interfaces ?? []).map((iface) => [iface.name, iface]));
  const controllerOf = new Map<string, string>();
  for (const iface of named.values()) {
    if (desiredState(iface) === 'absent') continue;
    for (const port of declaredPorts(iface) ?? []) controllerOf.set(port, iface.name);
  }
  const writes = new Map<string, WriteOp>();
  const removes: RemoveOp[] = [];
  const write = (name: string, iface: NetworkInterface, resource: string | undefined): WriteOp => {
    const entry = entries.get(name);
    const op: WriteOp = writes.get(name) ?? {
      kind: 'write',
      name,
      iface,
      profile: entry?.profile,
      device: entry?.device,
      state: desiredState(iface) === 'down' ? 'down' : 'up',
      depth: depthOf(name, named, controllerOf),
      resources: [],
    };
    if (resource !== undefined && !op.resources.includes(resource)) op.resources.push(resource);
    writes.set(name, op);
    return op;
  };
  /**
   * An interface the document does not name, written only for what must
   * change. A veth without a profile gets an ethernet one (a veth profile would
   * need its peer). `state` undefined keeps the state it has (a profile that
   * exists and is down stays down).
   */
  const implicit = (name: string, state?: 'up' | 'down'): NetworkInterface => {
    const now = observed.interfaces.get(name)?.current;
    const profile = entries.get(name)?.profile;
    const type = now?.type === 'veth' && !profile ? 'ethernet' : (now?.type ?? 'ethernet');
    return { name, type, state: state ?? (now?.state === 'down' && profile ? 'down' : 'up') };
  };

  for (const change of changes) {
    const iface = named.get(change.resource);
    if (!iface || change.action === 'none' || change.action === 'refused') continue;
    if (change.action === 'remove') {
      const entry = entries.get(iface.name);
      const type = observed.interfaces.get(iface.name)?.current.type ?? 'ethernet';
      removes.push({
        kind: 'remove',
        name: iface.name,
        profiles: snapshot.connections.filter((c) => c.view.name === iface.name),
        device: entry?.device,
        deleteDevice: isSoftwareType(type),
        resources: [change.resource],
      });
      continue;
    }
    const op = write(iface.name, iface, change.resource);
    const controller = controllerOf.get(iface.name);
    if (controller !== undefined) {
      op.controller = {
        name: controller,
        kind: controllerKind(named.get(controller) as NetworkInterface),
      };
    }
    const ports = declaredPorts(iface);
    if (ports === undefined) continue;
    // The ports follow their controller: attached ones get it, dropped ones lose it.
    for (const port of ports) {
      // A port is up when its controller is (NetworkManager takes ports down with it).
      const portState = desiredState(iface) === 'down' ? 'down' : 'up';
      const portOp = write(port, named.get(port) ?? implicit(port, portState), change.resource);
      portOp.controller = { name: iface.name, kind: controllerKind(iface) };
    }
    const now = observed.interfaces.get(iface.name)?.current;
    const before = now ? (declaredPorts(now) ?? []) : [];
    for (const port of before.filter((p) => !ports.includes(p) && !controllerOf.has(p))) {
      const portOp = write(port, named.get(port) ?? implicit(port), change.resource);
      portOp.controller = null;
    }
  }

  const routeChanges = changes.filter(
    (c) => c.resource.startsWith('route ') && (c.action === 'add' || c.action === 'remove'),
  );
  for (const change of routeChanges) {
    const route = (desired.routes?.config ?? []).find((r) => change.resource === routeResource(r));
    if (!route) continue;
    const hop = route['next-hop-interface'];
    const op = write(hop, named.get(hop) ?? implicit(hop), change.resource);
    const base = op.routes ?? entries.get(hop)?.profile?.view.routes ?? [];
    op.routes =
      change.action === 'add'
        ? [...base, withoutState(route)]
        : base.filter((present) => !routeMatches(route, present));
  }

  const touched = [
    ...removes.map((op) => op.device),
    ...[...writes.values()].map((op) => op.device),
  ];
  return {
    removes,
    writes: [...writes.values()].sort((a, b) => a.depth - b.depth),
    dns: changes.some(
      (c) => (DNS_RESOURCES as readonly string[]).includes(c.resource) && c.action === 'set',
    ),
    devices: [...new Set(touched.flatMap((device) => (device?.real ? [device.path] : [])))],
  };
}

function withoutState(route: RouteEntry): RouteEntry {
  const { state: _state, ...rest } = route;
  return rest;
}
