import { namedUuid, optional, ovsMap, ovsSet, uuidRef, type Json } from './ovsdb/datum.js';
import * as guard from './guards.js';
import { storedType, type BridgeChange, type OvsChange, type PortChange } from './plan.js';
import type { BridgeSpec, OpenvswitchSection, PortSpec } from './schema.js';
import type { ObservedBridge, OvsState } from './state.js';
import { MANAGED_KEY } from './tables.js';

/** One transact request for a whole apply, and how to read its answer. */
export interface OvsTransaction {
  operations: Json[];
  /** Index of each `wait` guard -> what it protects, for the failure message. */
  guards: ReadonlyMap<number, string>;
  /** Index of the `select` that reads back the new next_cfg. */
  nextCfgIndex: number;
}

const MANAGED: [string, string] = [MANAGED_KEY, 'true'];
const ALL_ROWS: Json[] = [];

/**
 * Builds the operations of one apply. Rows op-dbus creates carry
 * external_ids:op-dbus-managed; references between new rows are named uuids; a
 * bridge or port removal only drops the reference to it (Bridge, Port and
 * Interface are not root tables: ovsdb-server collects what nothing refers to).
 */
class TransactionBuilder {
  readonly operations: Json[] = [];
  readonly guards = new Map<number, string>();
  /** Bridge name -> 'full' or 'name': how strongly it is guarded already. */
  private readonly guardedBridges = new Map<string, 'full' | 'name'>();
  private readonly guardedPorts = new Set<string>();
  /** Bridge name -> references to the ports its insert must list. */
  private readonly newBridgePorts = new Map<string, Json[]>();
  private nextName = 0;

  constructor(
    private readonly desired: OpenvswitchSection,
    private readonly observed: OvsState,
  ) {}

  private uniqueName(prefix: string): string {
    return `${prefix}${this.nextName++}`;
  }

  private guard(description: string, operation: Json): void {
    this.guards.set(this.operations.length, description);
    this.operations.push(operation);
  }

  private guardBridge(bridge: ObservedBridge, strength: 'full' | 'name'): void {
    const current = this.guardedBridges.get(bridge.name);
    if (current === 'full' || current === strength) return;
    this.guardedBridges.set(bridge.name, strength);
    if (strength === 'full') this.guard(`bridge ${bridge.name}`, guard.bridgeUnchanged(bridge));
    else this.guard(`bridge ${bridge.name} exists`, guard.bridgeStillThere(bridge));
  }

  /** Guards the port as observed: its row and its interfaces' rows, or its absence. */
  private guardPort(name: string): void {
    if (this.guardedPorts.has(name)) return;
    this.guardedPorts.add(name);
    const port = this.observed.ports.get(name);
    if (port === undefined) {
      for (const op of guard.portStillAbsent(name)) this.guard(`no port named ${name}`, op);
      return;
    }
    this.guard(`port ${name}`, guard.portUnchanged(port));
    for (const iface of port.interfaces) {
      this.guard(`interface ${iface.name}`, guard.interfaceUnchanged(iface));
    }
  }

  addBridge(change: BridgeChange): void {
    const spec = this.desired.bridges[change.bridge] as BridgeSpec;
    const bridge = this.observed.bridges.get(change.bridge);
    if (change.action === 'create') {
      this.guard(`no bridge named ${change.bridge}`, guard.bridgeStillAbsent(change.bridge));
      this.newBridgePorts.set(change.bridge, []);
    } else if (bridge !== undefined && change.action !== 'none') {
      this.guardBridge(bridge, 'full');
      if (change.action === 'remove') {
        this.mutateRoot('bridges', 'delete', ovsSet([uuidRef(bridge.uuid)]));
      } else {
        this.updateBridge(bridge, spec);
      }
    }
  }

  private updateBridge(bridge: ObservedBridge, spec: BridgeSpec): void {
    const row: Record<string, Json> = {};
    if (spec.datapath_type !== undefined) row.datapath_type = storedType(spec.datapath_type);
    if (spec.fail_mode !== undefined) row.fail_mode = spec.fail_mode;
    if (spec.stp_enable !== undefined) row.stp_enable = spec.stp_enable;
    if (spec.external_ids !== undefined) {
      // The guard makes the merge safe: keys others set stay as they were read.
      const merged = { ...bridge.externalIds, ...spec.external_ids };
      row.external_ids = ovsMap(Object.entries(merged));
    }
    this.operations.push({ op: 'update', table: 'Bridge', where: byUuid(bridge.uuid), row });
  }

  /** Inserts the new bridges, once every port change has added its ports to them. */
  finishBridges(): void {
    for (const [name, ports] of this.newBridgePorts) {
      const spec = this.desired.bridges[name] as BridgeSpec;
      if (spec.ports?.[name] === undefined) {
        // ovs-vsctl add-br does the same: a bridge's local port is an internal port of its name.
        ports.push(this.insertPort(name, { interface: { type: 'internal' } }));
      }
      const row: Record<string, Json> = {
        name,
        ports: ovsSet(ports),
        external_ids: ovsMap([...Object.entries(spec.external_ids ?? {}), MANAGED]),
      };
      if (spec.datapath_type !== undefined) row.datapath_type = storedType(spec.datapath_type);
      if (spec.fail_mode !== undefined) row.fail_mode = spec.fail_mode;
      if (spec.stp_enable !== undefined) row.stp_enable = spec.stp_enable;
      const bridgeName = this.uniqueName('bridge');
      this.operations.push({ op: 'insert', table: 'Bridge', row, 'uuid-name': bridgeName });
      this.mutateRoot('bridges', 'insert', ovsSet([namedUuid(bridgeName)]));
    }
  }

  /** Inserts a port and its interface; returns the reference to the new port. */
  private insertPort(name: string, spec: PortSpec, localPort = false): Json {
    const ifaceName = this.uniqueName('iface');
    const type = spec.interface?.type ?? (localPort ? 'internal' : 'system');
    this.operations.push({
      op: 'insert',
      table: 'Interface',
      'uuid-name': ifaceName,
      row: {
        name,
        type: storedType(type),
        options: ovsMap(Object.entries(spec.interface?.options ?? {})),
        external_ids: ovsMap([MANAGED]),
      },
    });
    const portName = this.uniqueName('port');
    const row: Record<string, Json> = {
      name,
      interfaces: ovsSet([namedUuid(ifaceName)]),
      external_ids: ovsMap([MANAGED]),
    };
    if (spec.tag !== undefined && spec.tag !== null) row.tag = spec.tag;
    this.operations.push({ op: 'insert', table: 'Port', 'uuid-name': portName, row });
    return namedUuid(portName);
  }

  /** Adds a port reference to `bridge`: in its insert when new, else by mutation. */
  private attach(bridge: string, port: Json): void {
    const pending = this.newBridgePorts.get(bridge);
    if (pending !== undefined) {
      pending.push(port);
      return;
    }
    const target = this.observed.bridges.get(bridge);
    // The plan creates a bridge in the same apply as its first ports: a bug if not.
    if (target === undefined) throw new Error(`bridge ${bridge} is neither observed nor created`);
    this.guardBridge(target, 'name');
    this.mutatePorts(target, 'insert', port);
  }

  addPort(change: PortChange): void {
    const spec = this.desired.bridges[change.bridge]?.ports?.[change.port] ?? {};
    const port = this.observed.ports.get(change.port);
    switch (change.action) {
      case 'none':
      case 'unresolvable':
        return;
      case 'create':
        this.guardPort(change.port);
        this.attach(
          change.bridge,
          this.insertPort(change.port, spec, change.port === change.bridge),
        );
        return;
      case 'remove': {
        if (port === undefined || port.bridge === null) return;
        this.guardPort(change.port);
        const holder = this.observed.bridges.get(port.bridge) as ObservedBridge;
        this.guardBridge(holder, 'name');
        this.mutatePorts(holder, 'delete', uuidRef(port.uuid));
        return;
      }
      case 'move':
      case 'update': {
        if (port === undefined || port.bridge === null) return;
        this.guardPort(change.port);
        if (change.action === 'move') {
          const source = this.observed.bridges.get(port.bridge) as ObservedBridge;
          this.guardBridge(source, 'name');
          this.mutatePorts(source, 'delete', uuidRef(port.uuid));
          this.attach(change.bridge, uuidRef(port.uuid));
        } else {
          this.guardBridge(this.observed.bridges.get(change.bridge) as ObservedBridge, 'name');
        }
        this.updatePort(port.uuid, port.interfaces[0]?.uuid, spec);
        return;
      }
    }
  }

  private updatePort(portUuid: string, ifaceUuid: string | undefined, spec: PortSpec): void {
    if (spec.tag !== undefined) {
      this.operations.push({
        op: 'update',
        table: 'Port',
        where: byUuid(portUuid),
        row: { tag: optional(spec.tag) },
      });
    }
    const row: Record<string, Json> = {};
    if (spec.interface?.type !== undefined) row.type = storedType(spec.interface.type);
    if (spec.interface?.options !== undefined) {
      row.options = ovsMap(Object.entries(spec.interface.options));
    }
    if (ifaceUuid !== undefined && Object.keys(row).length > 0) {
      this.operations.push({ op: 'update', table: 'Interface', where: byUuid(ifaceUuid), row });
    }
  }

  private mutatePorts(bridge: ObservedBridge, mutator: 'insert' | 'delete', port: Json): void {
    this.operations.push({
      op: 'mutate',
      table: 'Bridge',
      where: byUuid(bridge.uuid),
      mutations: [['ports', mutator, ovsSet([port])]],
    });
  }

  private mutateRoot(column: string, mutator: string, value: Json): void {
    this.operations.push({
      op: 'mutate',
      table: 'Open_vSwitch',
      where: ALL_ROWS,
      mutations: [[column, mutator, value]],
    });
  }

  /**
   * Ends the transaction as ovs-vsctl does: next_cfg += 1 and read it back;
   * ovs-vswitchd sets cur_cfg to it once it has applied this configuration.
   */
  finish(comment: string): number {
    this.operations.push({ op: 'comment', comment });
    this.mutateRoot('next_cfg', '+=', 1);
    this.operations.push({
      op: 'select',
      table: 'Open_vSwitch',
      where: ALL_ROWS,
      columns: ['next_cfg'],
    });
    return this.operations.length - 1;
  }
}

function byUuid(uuid: string): Json[] {
  return [['_uuid', '==', uuidRef(uuid)]];
}

/** True when a change needs the transaction (the rest are 'none' or cannot be made). */
export function isActionable(change: OvsChange): boolean {
  return change.action !== 'none' && change.action !== 'unresolvable';
}

/** Pure: the one transaction that makes `changes`, guarded on `observed`. */
export function buildTransaction(
  changes: readonly OvsChange[],
  desired: OpenvswitchSection,
  observed: OvsState,
): OvsTransaction {
  const builder = new TransactionBuilder(desired, observed);
  for (const change of changes) if (change.kind === 'bridge') builder.addBridge(change);
  for (const change of changes) if (change.kind === 'port') builder.addPort(change);
  builder.finishBridges();
  const actionable = changes.filter(isActionable).length;
  const nextCfgIndex = builder.finish(`op-dbus: apply of ${actionable} change(s)`);
  return { operations: builder.operations, guards: builder.guards, nextCfgIndex };
}
