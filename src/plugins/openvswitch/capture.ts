import type { Capture } from '../../engine/plugin.js';
import { bridgeSpec } from './query.js';
import type { BridgeSpec, OpenvswitchSection } from './schema.js';
import type { OvsState } from './state.js';

/**
 * The bridges the section names, as they are now: what a rollback applies.
 * A bridge that did not exist is captured `absent`; one that did, with all
 * its ports and `exclusive_ports`, so that ports added on probation go again.
 * A bridge with a port the document cannot describe (a bond) is captured
 * without `exclusive_ports` (that port must not be removed): approximate.
 */
export function captureBridges(
  desired: OpenvswitchSection,
  observed: OvsState,
): Capture<OpenvswitchSection> {
  const bridges: Record<string, BridgeSpec> = {};
  let exact = true;
  for (const name of Object.keys(desired.bridges)) {
    const bridge = observed.bridges.get(name);
    if (!bridge) {
      bridges[name] = { ensure: 'absent' };
      continue;
    }
    const spec = bridgeSpec(bridge, observed);
    const described = Object.keys(spec.ports ?? {}).length;
    const undescribable = bridge.ports.filter((port) => port !== name).length - described;
    if (undescribable > 0) exact = false;
    else spec.exclusive_ports = true;
    bridges[name] = spec;
  }
  return { section: { bridges }, restore: exact ? 'exact' : 'approximate' };
}
