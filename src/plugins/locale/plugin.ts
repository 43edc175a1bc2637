import type { Logger } from 'pino';
import type {
  Capture,
  PlannedChange,
  Plugin,
  PluginContext,
  ResourceOutcome,
} from '../../engine/plugin.js';
import { errorMessage, failureKindOf, retryableFailure } from '../../errors.js';
import type { PluginHost } from '../definition.js';
import { ChangeFeed } from '../shared/change-feed.js';
import { connectSettingsService, type SettingsService } from '../shared/settings-service.js';
import {
  captureLocale,
  currentLocale,
  localeToSet,
  parseLocale,
  planLocale,
  type LocaleSettings,
} from './plan.js';
import type { LocaleSection } from './schema.js';

const LOCALE1 = {
  busName: 'org.freedesktop.locale1',
  path: '/org/freedesktop/locale1',
  interface: 'org.freedesktop.locale1',
};

/**
 * The system locale through locale1. The section lists the variables to pin;
 * variables it leaves out are left as they are (merged, not a complete list):
 * like every other plugin, a document only speaks for what it names, and
 * locale1 on systemd 252 has no way to unset a variable anyway.
 */
export class LocalePlugin implements Plugin<LocaleSection, LocaleSettings> {
  readonly changes = new ChangeFeed();
  private serviceValue: SettingsService | undefined;
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly host: PluginHost<unknown>) {
    this.log = host.log;
  }

  private get service(): SettingsService {
    if (!this.serviceValue) throw new Error('the locale plugin was not started');
    return this.serviceValue;
  }

  /** locale1 reports the whole list as changed: every variable is to be looked at again. */
  async start(): Promise<void> {
    this.serviceValue = await connectSettingsService(this.host, LOCALE1);
    this.unsubscribe = this.service.onPropertiesChanged((properties) => {
      if (!properties.includes('Locale')) return;
      this.log.debug('locale changed behind our back');
      this.changes.publish('all');
    });
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    this.changes.clear();
    this.serviceValue?.stop();
    return Promise.resolve();
  }

  /** An empty section needs nothing read: it plans nothing even where locale1 is absent. */
  async observe(desired: LocaleSection | undefined, ctx: PluginContext): Promise<LocaleSettings> {
    if (desired && Object.keys(desired).length === 0) return {};
    const { Locale: reading } = await this.service.read(['Locale'], ctx.signal, ctx.priority);
    if (!reading || 'error' in reading) {
      throw retryableFailure(
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
      await this.service.call('SetLocale', 'asb', [assignments, false], {
        signal: ctx.signal,
        timeoutMs: Math.max(ctx.deadline - Date.now(), 0),
      });
      ctx.log.info({ locale: assignments }, 'locale set');
      return changes.map(({ resource, action }) => ({ resource, outcome: 'changed', action }));
    } catch (err) {
      ctx.signal.throwIfAborted();
      const error = errorMessage(err);
      const failure = failureKindOf(err);
      ctx.log.warn({ locale: assignments, error }, 'locale refused');
      return changes.map(({ resource, action }) => ({
        resource,
        outcome: 'failed',
        action,
        error,
        failure,
      }));
    }
  }

  capture(desired: LocaleSection, observed: LocaleSettings): Capture<LocaleSection> {
    return captureLocale(desired, observed);
  }

  /** The current locale; an unreadable locale1 makes the plugin unreadable. */
  async query(ctx: PluginContext): Promise<LocaleSection> {
    return currentLocale(await this.observe(undefined, ctx));
  }
}
