import { Value } from '@sinclair/typebox/value';
import type { PlannedChange } from '../../engine/plugin.js';
import {
  LOCALE_VARIABLES,
  LocaleValue,
  type LocaleSection,
  type LocaleVariable,
} from './schema.js';

/** The locale variables that are set, as locale1's Locale property lists them. */
export type LocaleSettings = Partial<Record<LocaleVariable, string>>;

function isLocaleVariable(name: string): name is LocaleVariable {
  return (LOCALE_VARIABLES as readonly string[]).includes(name);
}

/** Parses locale1's Locale property ("LANG=en_US.UTF-8", ...); variables it does not know are dropped. */
export function parseLocale(assignments: readonly string[]): LocaleSettings {
  const settings: LocaleSettings = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    const name = assignment.slice(0, equals);
    if (equals > 0 && isLocaleVariable(name)) settings[name] = assignment.slice(equals + 1);
  }
  return settings;
}

/**
 * The value a variable has in effect. An unset LC_* variable follows LANG, and
 * locale1 itself drops an LC_* equal to LANG when it saves, so comparing what is
 * in effect (not what is written) is what keeps a second Apply empty.
 */
function effective(
  name: LocaleVariable,
  settings: LocaleSettings,
  lang: string | undefined,
): string | null {
  return settings[name] ?? (name.startsWith('LC_') ? lang : undefined) ?? null;
}

/**
 * Pure: one change per variable the section names, in locale.conf's order. A
 * variable is 'none' only if it is as desired now and stays so once LANG has
 * its desired value (an unset LC_TIME follows a LANG that changes).
 */
export function planLocale(desired: LocaleSection, current: LocaleSettings): PlannedChange[] {
  const langAfter = desired.LANG ?? current.LANG;
  return LOCALE_VARIABLES.filter((name) => desired[name] !== undefined).map((name) => {
    const to = desired[name] as string;
    const from = effective(name, current, current.LANG);
    const after = effective(name, current, langAfter);
    return { resource: name, action: from === to && after === to ? 'none' : 'set', from, to };
  });
}

/**
 * The full list for SetLocale: the current variables with the desired ones laid
 * over them. The section is a partial view (variables it leaves out are left as
 * they are), and sending the merged list gives that result whether locale1
 * merges (systemd 252 does, and cannot unset a variable) or replaces the list
 * (older and some newer versions).
 */
export function localeToSet(desired: LocaleSection, current: LocaleSettings): string[] {
  return LOCALE_VARIABLES.flatMap((name) => {
    const value = desired[name] ?? current[name];
    return value === undefined ? [] : [`${name}=${value}`];
  });
}

/** The current variables as a section, leaving out values the schema would reject. */
export function currentLocale(current: LocaleSettings): LocaleSection {
  const section: LocaleSection = {};
  for (const name of LOCALE_VARIABLES) {
    const value = current[name];
    if (value !== undefined && value !== '' && Value.Check(LocaleValue, value))
      section[name] = value;
  }
  return section;
}

/**
 * The variables `desired` names, as they are now (what a rollback applies). A
 * variable that was unset cannot be unset again (locale1 on systemd 252 merges):
 * it is left out, and the restore is then approximate.
 */
export function captureLocale(
  desired: LocaleSection,
  current: LocaleSettings,
): { section: LocaleSection; restore: 'exact' | 'approximate' } {
  const section: LocaleSection = {};
  let exact = true;
  for (const name of LOCALE_VARIABLES) {
    if (desired[name] === undefined) continue;
    const value = current[name];
    if (value !== undefined && Value.Check(LocaleValue, value)) section[name] = value;
    else exact = false;
  }
  return { section, restore: exact ? 'exact' : 'approximate' };
}
