import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { PlannedChange } from '../../engine/plugin.js';
import type { Reading } from './settings-service.js';

/**
 * One setting that is a single property of a service with a Set* method for it
 * (hostname1's StaticHostname and SetStaticHostname, timedate1's NTP and SetNTP).
 */
export interface ScalarSetting {
  /** The key in the document section; also the resource name in plans and results. */
  field: string;
  /** The service property that holds the current value. */
  property: string;
  /** The method that changes it and its D-Bus signature. */
  setter: string;
  signature: string;
  /** The setter's arguments for a desired value. */
  args(value: unknown): unknown[];
  /** The field's schema: Query leaves out a current value that would not pass it. */
  schema: TSchema;
}

/** What observe read: one reading per property named by the settings in play. */
export type ObservedSettings = Record<string, Reading>;

export type SettingAction = 'none' | 'set';

function currentValue(reading: Reading | undefined): unknown {
  return reading && 'value' in reading ? reading.value : null;
}

/** The properties to read for the fields a section names (all settings when `fields` is undefined). */
export function propertiesFor(
  settings: readonly ScalarSetting[],
  fields?: readonly string[],
): string[] {
  return settings
    .filter((setting) => fields === undefined || fields.includes(setting.field))
    .map((setting) => setting.property);
}

/**
 * Pure: one change per field the section names, in the settings' order (the
 * order the setters are called in). A property that could not be read is
 * planned as 'set' from null: only calling the setter can say whether it works.
 */
export function planSettings(
  settings: readonly ScalarSetting[],
  desired: Readonly<Record<string, unknown>>,
  observed: ObservedSettings,
): PlannedChange[] {
  return settings
    .filter((setting) => desired[setting.field] !== undefined)
    .map((setting) => {
      const to = desired[setting.field];
      const from = currentValue(observed[setting.property]);
      const action: SettingAction = from === to ? 'none' : 'set';
      return { resource: setting.field, action, from, to };
    });
}

/**
 * The current values as a section: values that are unreadable, empty (unset) or
 * that the field's schema would reject are left out, so the section re-applies
 * with an empty plan.
 */
export function currentSettings(
  settings: readonly ScalarSetting[],
  observed: ObservedSettings,
): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const setting of settings) {
    const value = currentValue(observed[setting.property]);
    if (value === null || value === '') continue;
    if (Value.Check(setting.schema, value)) section[setting.field] = value;
  }
  return section;
}

/**
 * The fields `desired` names, as they are now (what a rollback applies). A value
 * that cannot be set back (unreadable, or refused by its own schema, e.g. an
 * empty static hostname) is left out, and the restore is then approximate.
 */
export function captureSettings(
  settings: readonly ScalarSetting[],
  desired: Readonly<Record<string, unknown>>,
  observed: ObservedSettings,
): { section: Record<string, unknown>; restore: 'exact' | 'approximate' } {
  const current = currentSettings(settings, observed);
  const named = settings.filter((setting) => desired[setting.field] !== undefined);
  const section = Object.fromEntries(
    named.filter((s) => s.field in current).map((s) => [s.field, current[s.field]]),
  );
  return {
    section,
    restore: Object.keys(section).length === named.length ? 'exact' : 'approximate',
  };
}
