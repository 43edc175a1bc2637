import { isRunning, isStopped } from './plan.js';
import {
  isDescribableUnitName,
  isProtectedUnit,
  type SystemdSection,
  type UnitSpec,
} from './schema.js';

/** One row of ListUnitFiles: where the unit file is and its state. */
export interface UnitFileListing {
  path: string;
  state: string;
}

/** One row of ListUnits: a loaded unit and its ActiveState. */
export interface LoadedUnitListing {
  name: string;
  activeState: string;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The document fields a unit file state pins down without planning a change;
 * undefined for units left out. enabled-runtime and masked-runtime units are
 * described by their active state alone (the document's `enabled` and `masked`
 * mean the persistent state, which they are not); static, alias, generated,
 * transient, indirect and linked units have no enablement of their own.
 */
function fileFields(state: string): UnitSpec | undefined {
  switch (state) {
    case 'enabled':
      return { enabled: true };
    case 'disabled':
      return { enabled: false };
    case 'masked':
      return { masked: true };
    case 'enabled-runtime':
    case 'masked-runtime':
      return {};
    default:
      return undefined;
  }
}

/** Drops what the schema refuses: a protected unit is never described as stopped or masked. */
function describable(name: string, spec: UnitSpec): UnitSpec | undefined {
  const kept: UnitSpec = { ...spec };
  if (isProtectedUnit(name)) {
    if (kept.active_state === 'inactive') delete kept.active_state;
    if (kept.masked === true) delete kept.masked;
  }
  // A masked unit that still runs (masked behind its back) cannot be described as both.
  if (kept.masked === true && kept.active_state === 'active') delete kept.active_state;
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/**
 * Pure: the current state of every unit that has a unit file systemd can enable,
 * disable or mask, as a section that Apply accepts and that plans no change.
 * Units in a transition (activating, deactivating) leave out active_state, and
 * names the schema would refuse are left out altogether.
 */
export function sectionFromListings(
  files: readonly UnitFileListing[],
  loaded: readonly LoadedUnitListing[],
): SystemdSection {
  const activeStates = new Map(loaded.map((unit) => [unit.name, unit.activeState]));
  const units: Record<string, UnitSpec> = {};
  const seen = new Set<string>();
  for (const file of files) {
    const name = baseName(file.path);
    // Listed in search-path order: the first entry is the one systemd uses.
    if (seen.has(name)) continue;
    seen.add(name);
    const fields = fileFields(file.state);
    if (!fields || !isDescribableUnitName(name)) continue;
    // A unit that is not loaded is not running.
    const activeState = activeStates.get(name) ?? 'inactive';
    const spec: UnitSpec = { ...fields };
    if (isRunning(activeState)) spec.active_state = 'active';
    else if (isStopped(activeState)) spec.active_state = 'inactive';
    const kept = describable(name, spec);
    if (kept) units[name] = kept;
  }
  const sorted = Object.keys(units).sort();
  return { units: Object.fromEntries(sorted.map((name) => [name, units[name] as UnitSpec])) };
}
