import type { Capture } from '../../engine/plugin.js';
import { isRunning, MISSING_UNIT, type ObservedUnits } from './plan.js';
import type { SystemdSection, UnitSpec } from './schema.js';

/**
 * The fields the section names, per unit, as they are now: what a rollback
 * applies. Exact for what a document can say (running or not, enabled or not,
 * masked or not); a unit file state a document cannot name (static, runtime
 * enablement) is left out and restored by not being touched.
 */
export function captureUnits(
  desired: SystemdSection,
  observed: ObservedUnits,
): Capture<SystemdSection> {
  const units: Record<string, UnitSpec> = {};
  let exact = true;
  for (const [name, spec] of Object.entries(desired.units)) {
    const state = observed.get(name) ?? MISSING_UNIT;
    const file = state.unitFileState;
    const before: UnitSpec = {};
    if (spec.active_state !== undefined)
      before.active_state = isRunning(state.activeState) ? 'active' : 'inactive';
    if (spec.enabled !== undefined) {
      if (file === 'enabled') before.enabled = true;
      else if (file === 'disabled' || file === null) before.enabled = false;
      else exact = false;
    }
    if (spec.masked !== undefined) {
      if (file === 'masked') before.masked = true;
      else if (file !== 'masked-runtime') before.masked = false;
      else exact = false;
    }
    // A masked unit cannot be described as running or enabled (the schema's rule).
    if (before.masked === true) {
      if (before.active_state === 'active') before.active_state = 'inactive';
      if (before.enabled === true) delete before.enabled;
    }
    if (Object.keys(before).length > 0) units[name] = before;
  }
  return { section: { units }, restore: exact ? 'exact' : 'approximate' };
}
