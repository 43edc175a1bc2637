import { documentType } from './plan.js';
import type { BridgeSpec, OpenvswitchSection, PortSpec } from './schema.js';
import {
  INTERFACE_TYPE_PATTERN,
  MAP_KEY_PATTERN,
  MAX_VALUE_LENGTH,
  OVS_NAME_PATTERN,
} from './schema.js';
import type { ObservedBridge, ObservedPort, OvsState } from './state.js';
import { MANAGED_KEY } from './tables.js';

const nameRegExp = new RegExp(OVS_NAME_PATTERN, 'u');
const keyRegExp = new RegExp(MAP_KEY_PATTERN, 'u');
const typeRegExp = new RegExp(INTERFACE_TYPE_PATTERN, 'u');
const DOCUMENT_DATAPATHS = new Set(['system', 'netdev']);
const DOCUMENT_FAIL_MODES = new Set(['standalone', 'secure']);

function describable([key, value]: [string, string]): boolean {
  return keyRegExp.test(key) && value.length <= MAX_VALUE_LENGTH;
}

/** external_ids: only entries the schema accepts (the others are left alone by a merge anyway). */
function describableIds(map: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(map).filter((entry) => entry[0] !== MANAGED_KEY && describable(entry)),
  );
}

/** The bridge's own port, when it is as ovs-vsctl add-br (and op-dbus) make it: implied. */
function isPlainLocalPort(bridge: string, port: ObservedPort): boolean {
  const [iface] = port.interfaces;
  return (
    port.name === bridge &&
    port.interfaces.length === 1 &&
    iface?.type === 'internal' &&
    Object.keys(iface.options).length === 0 &&
    port.tag === null
  );
}

function portSpec(port: ObservedPort): PortSpec | undefined {
  const [iface] = port.interfaces;
  // A bond (several interfaces) has no shape in the document: left out.
  if (port.interfaces.length !== 1 || iface === undefined) return undefined;
  const type = documentType(iface.type);
  const options = Object.entries(iface.options);
  // Options are the whole map when given: all of them or none ("left alone").
  const spec: PortSpec = {
    interface: {
      ...(typeRegExp.test(type) ? { type } : {}),
      ...(options.every(describable) ? { options: { ...iface.options } } : {}),
    },
  };
  if (port.tag !== null) spec.tag = port.tag;
  return spec;
}

export function bridgeSpec(bridge: ObservedBridge, state: OvsState): BridgeSpec {
  const spec: BridgeSpec = { ensure: 'present' };
  const datapath = documentType(bridge.datapathType);
  if (DOCUMENT_DATAPATHS.has(datapath)) spec.datapath_type = datapath as 'system' | 'netdev';
  if (bridge.failMode !== null && DOCUMENT_FAIL_MODES.has(bridge.failMode)) {
    spec.fail_mode = bridge.failMode as 'standalone' | 'secure';
  }
  spec.stp_enable = bridge.stpEnable;
  const ids = describableIds(bridge.externalIds);
  if (Object.keys(ids).length > 0) spec.external_ids = ids;
  const ports: Record<string, PortSpec> = {};
  for (const name of [...bridge.ports].sort()) {
    const port = state.ports.get(name);
    if (port === undefined || !nameRegExp.test(name) || isPlainLocalPort(bridge.name, port)) {
      continue;
    }
    const described = portSpec(port);
    if (described !== undefined) ports[name] = described;
  }
  if (Object.keys(ports).length > 0) spec.ports = ports;
  return spec;
}

/**
 * Every bridge as a section Apply accepts and that plans no change. What the
 * document cannot say is left out: bonds, names the schema refuses, keys
 * outside the key pattern, op-dbus's own marker, and the implied local port.
 */
export function sectionFromState(state: OvsState): OpenvswitchSection {
  const bridges: Record<string, BridgeSpec> = {};
  for (const name of [...state.bridges.keys()].sort()) {
    if (!nameRegExp.test(name)) continue;
    bridges[name] = bridgeSpec(state.bridges.get(name) as ObservedBridge, state);
  }
  return { bridges };
}
