import type { Logger } from 'pino';
import type { PlannedChange, Plugin, PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { ErrorName, OpdbusError, errorMessage } from '../../errors.js';
import { SettingsService, type HostSettingsDependencies } from '../shared/settings-service.js';
import {
  currentLocale,
  localeToSet,
  parseLocale,
  planLocale,
  type LocaleSettings,
} from './plan.js';
import { LocaleSection } from './schema.js';

const LOCALE1 = {
  busName: 'org.freedesktop.locale1',
  path: '/org/freedesktop/locale1',
  interface: 'org.freedesktop.locale1',
};

/**
 * SetLocale can take minutes: Debian's localed runs locale-gen for a locale that
 * is not generated yet, one locale after another.
 */
const SET_LOCALE_TIMEOUT_MS = 300_000;

/**
 * The system locale through locale1. The section lists the variables to pin;
 * variables it leaves out are left as they are (merged, not a complete list):
 * like every other plugin, a document only speaks for what it names, and
 * locale1 on systemd 252 has no way to unset a variable anyway.
 */
export class LocalePlugin implements Plugin<LocaleSection, LocaleSettings> {
  readonly name = 'locale';
  readonly schema = LocaleSection;
  private readonly service: SettingsService;
  private readonly log: Logger;

  constructor(deps: HostSettingsDependencies) {
    this.service = new SettingsService(deps.bus, deps.router, LOCALE1);
    this.log = deps.log.child({ plugin: this.name });
  }

  start(): Promise<void> {
    return this.service.listen();
  }

  stop(): Promise<void> {
    this.service.stop();
    return Promise.resolve();
  }

  /** An empty section needs nothing read: it plans nothing even where locale1 is absent. */
  async observe(desired?: LocaleSection): Promise<LocaleSettings> {
    if (desired && Object.keys(desired).length === 0) return {};
    const { Locale: reading } = await this.service.read(['Locale']);
    if (!reading || 'error' in reading) {
      throw new OpdbusError(
        ErrorName.PluginUnavailable,
        `locale1's Locale could not be read: ${reading?.error ?? 'no answer'}`,
      );
    }
    return parseLocale(Array.isArray(reading.value) ? reading.value.map(String) : []);
  }

  plan(desired: LocaleSection, observed: LocaleSettings): PlannedChange[] {
    return planLocale(desired, observed);
  }

  /** One SetLocale for every variable: it succeeds or fails as a whole. */
  async apply(
    changes: PlannedChange[],
    desired: LocaleSection,
    observed: LocaleSettings,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    const assignments = localeToSet(desired, observed);
    try {
      await this.service.call('SetLocale', 'asb', [assignments, false], SET_LOCALE_TIMEOUT_MS);
      ctx.log.info({ locale: assignments }, 'locale set');
      return changes.map(({ resource, action }) => ({ resource, outcome: 'changed', action }));
    } catch (err) {
      const error = errorMessage(err);
      ctx.log.warn({ locale: assignments, error }, 'locale refused');
      return changes.map(({ resource, action }) => ({
        resource,
        outcome: 'failed',
        action,
        error,
      }));
    }
  }

  /** Like the other host settings: an unreadable locale1 gives an empty section, and a warning. */
  async query(ctx: PluginContext): Promise<LocaleSection> {
    try {
      return currentLocale(await this.observe());
    } catch (err) {
      ctx.log.warn({ service: LOCALE1.busName, error: errorMessage(err) }, 'service unreadable');
      return {};
    }
  }

  /** Locale1 reports the whole list as changed: every variable is to be looked at again. */
  watch(notify: (resources?: readonly string[]) => void): () => void {
    return this.service.onPropertiesChanged((properties) => {
      if (!properties.includes('Locale')) return;
      this.log.debug('locale changed behind our back');
      notify();
    });
  }
}
