import type { PlannedChange } from '../../engine/plugin.js';
import type { SystemdSection, UnitSpec } from './schema.js';

/** What systemd says about one unit, read through LoadUnit, its properties and GetUnitFileState. */
export interface UnitState {
  /** LoadState: loaded, not-found, masked, bad-setting, error, ... */
  loadState: string;
  /** ActiveState: active, reloading, inactive, failed, activating, deactivating. */
  activeState: string;
  subState: string;
  /**
   * GetUnitFileState's answer, read from disk (enabled, enabled-runtime, disabled,
   * static, masked, masked-runtime, linked, alias, indirect, generated, transient,
   * bad, ...); null when the unit has no unit file at all.
   */
  unitFileState: string | null;
  /** The unit file changed on disk since systemd loaded it. */
  needDaemonReload: boolean;
}

export type ObservedUnits = Map<string, UnitState>;

/** The one thing a unit change does at one stage of an apply. */
export type UnitStep = 'stop' | 'unmask' | 'disable' | 'enable' | 'mask' | 'start';

/**
 * The order apply runs the steps in, which is also the order of the verbs in an
 * action: stop first (a unit stops fine while masked), then every unit-file change,
 * one Reload, then start (a start needs the unmasked, reloaded unit).
 */
export const STEP_ORDER: readonly UnitStep[] = [
  'stop',
  'unmask',
  'disable',
  'enable',
  'mask',
  'start',
];

/** A planned change with the steps that make it, for apply. */
export interface UnitChange extends PlannedChange {
  steps: UnitStep[];
  state: UnitState;
}

/** What a unit that LoadUnit has never heard of looks like. */
export const MISSING_UNIT: UnitState = {
  loadState: 'not-found',
  activeState: 'inactive',
  subState: 'dead',
  unitFileState: null,
  needDaemonReload: false,
};

export function isRunning(activeState: string): boolean {
  return activeState === 'active' || activeState === 'reloading';
}

/** A failed unit is not running: "inactive" is satisfied by it. */
export function isStopped(activeState: string): boolean {
  return activeState === 'inactive' || activeState === 'failed';
}

export function isMasked(unitFileState: string | null): boolean {
  return unitFileState === 'masked' || unitFileState === 'masked-runtime';
}

/** Enabled in any way that makes the unit start: persistently or until the next boot. */
export function isEnabled(unitFileState: string | null): boolean {
  return unitFileState === 'enabled' || unitFileState === 'enabled-runtime';
}

function unitExists(state: UnitState): boolean {
  return state.loadState !== 'not-found' || state.unitFileState !== null;
}

/**
 * The document's fields as they are now. `enabled` and `masked` are booleans where
 * the unit file state says yes or no, and the state itself where it is neither
 * (static, enabled-runtime, masked-runtime, ...), so a failure message shows why.
 */
function currentFields(spec: UnitSpec, state: UnitState): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const fileState = state.unitFileState;
  if (spec.active_state !== undefined) fields.active_state = state.activeState;
  if (spec.enabled !== undefined) {
    fields.enabled =
      fileState === 'enabled'
        ? true
        : fileState === 'disabled' || fileState === null
          ? false
          : fileState;
  }
  if (spec.masked !== undefined) {
    fields.masked =
      fileState === 'masked' ? true : fileState === 'masked-runtime' ? fileState : false;
  }
  return fields;
}

/**
 * The document describes the persistent configuration: `enabled: true` wants
 * "enabled" (enabled-runtime is gone after a reboot), `masked: true` wants
 * "masked"; `false` undoes runtime and persistent state alike.
 */
function stepsFor(spec: UnitSpec, state: UnitState): UnitStep[] {
  const steps = new Set<UnitStep>();
  const fileState = state.unitFileState;
  if (spec.active_state === 'active' && !isRunning(state.activeState)) steps.add('start');
  if (spec.active_state === 'inactive' && !isStopped(state.activeState)) steps.add('stop');
  if (spec.masked === true && fileState !== 'masked') steps.add('mask');
  if (spec.masked === false && isMasked(fileState)) steps.add('unmask');
  // A mask hides whether the unit underneath is enabled: after an unmask, enabling
  // or disabling again is harmless and makes sure.
  const unmasking = steps.has('unmask');
  if (spec.enabled === true && (fileState !== 'enabled' || unmasking)) steps.add('enable');
  if (spec.enabled === false && (isEnabled(fileState) || unmasking)) steps.add('disable');
  return STEP_ORDER.filter((step) => steps.has(step));
}

function planUnit(name: string, spec: UnitSpec, state: UnitState): UnitChange {
  const steps = stepsFor(spec, state);
  return {
    resource: name,
    action: steps.length === 0 ? 'none' : steps.join('+'),
    from: unitExists(state) ? currentFields(spec, state) : null,
    to: { ...spec },
    steps,
    state,
  };
}

/** Pure: one change per unit in the section, in the section's order. */
export function planUnits(desired: SystemdSection, observed: ObservedUnits): UnitChange[] {
  return Object.entries(desired.units).map(([name, spec]) =>
    planUnit(name, spec, observed.get(name) ?? MISSING_UNIT),
  );
}
