import type {
  ObservedBridge,
  ObservedInterface,
  ObservedPort,
  OvsState,
} from '../../src/plugins/openvswitch/state.js';

/** A port as a test describes it; defaults: type '' (system), no options, no tag, ofport 1. */
export interface PortFixture {
  type?: string;
  options?: Record<string, string>;
  tag?: number | null;
  ofport?: number | null;
  error?: string | null;
  externalIds?: Record<string, string>;
  /** Extra interfaces (a bond). */
  extraInterfaces?: string[];
}

export interface BridgeFixture {
  datapathType?: string;
  failMode?: string | null;
  stpEnable?: boolean;
  externalIds?: Record<string, string>;
  /** Ports by name; the local port is added unless `noLocalPort`. */
  ports?: Record<string, PortFixture>;
  noLocalPort?: boolean;
}

let counter = 0;
/** A fresh, valid uuid for each row. */
export function testUuid(): string {
  counter++;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

function iface(name: string, fixture: PortFixture): ObservedInterface {
  return {
    uuid: testUuid(),
    name,
    type: fixture.type ?? '',
    options: fixture.options ?? {},
    ofport: fixture.ofport === undefined ? 1 : fixture.ofport,
    error: fixture.error ?? null,
    externalIds: {},
  };
}

/** An OvsState as snapshot() would give it for these bridges. */
export function buildState(bridges: Record<string, BridgeFixture>, curCfg = 1): OvsState {
  const observedBridges = new Map<string, ObservedBridge>();
  const ports = new Map<string, ObservedPort>();
  for (const [name, fixture] of Object.entries(bridges)) {
    const portFixtures: Record<string, PortFixture> = fixture.noLocalPort
      ? { ...fixture.ports }
      : { [name]: { type: 'internal', ofport: 65534 }, ...fixture.ports };
    const portUuids: string[] = [];
    for (const [portName, portFixture] of Object.entries(portFixtures)) {
      const interfaces = [
        iface(portName, portFixture),
        ...(portFixture.extraInterfaces ?? []).map((extra) => iface(extra, {})),
      ];
      const port: ObservedPort = {
        uuid: testUuid(),
        name: portName,
        bridge: name,
        tag: portFixture.tag ?? null,
        interfaceUuids: interfaces.map((i) => i.uuid),
        interfaces,
        externalIds: portFixture.externalIds ?? {},
      };
      ports.set(portName, port);
      portUuids.push(port.uuid);
    }
    observedBridges.set(name, {
      uuid: testUuid(),
      name,
      datapathType: fixture.datapathType ?? 'netdev',
      failMode: fixture.failMode ?? null,
      stpEnable: fixture.stpEnable ?? false,
      externalIds: fixture.externalIds ?? {},
      portUuids,
      ports: Object.keys(portFixtures),
    });
  }
  return { bridges: observedBridges, ports, curCfg, nextCfg: curCfg };
}

export const EMPTY_STATE: OvsState = buildState({});
