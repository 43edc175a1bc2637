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
import { ChangeFeed } from './change-feed.js';
import {
  captureSettings,
  currentSettings,
  planSettings,
  propertiesFor,
  type ObservedSettings,
  type ScalarSetting,
} from './scalar-settings.js';
import {
  connectSettingsService,
  type SettingsService,
  type ServiceAddress,
} from './settings-service.js';

export interface ScalarSettingsPluginOptions {
  host: PluginHost<unknown>;
  address: ServiceAddress;
  /** In the order the setters are called. */
  settings: readonly ScalarSetting[];
}

/**
 * A plugin whose section is a few independent values, each one property of one
 * service with its own setter (hostname1, timedate1). A setter that fails fails
 * its resource alone, with the service's message; the other settings still apply.
 */
export class ScalarSettingsPlugin<Section extends object> implements Plugin<
  Section,
  ObservedSettings
> {
  readonly changes = new ChangeFeed();
  private serviceValue: SettingsService | undefined;
  private readonly settings: readonly ScalarSetting[];
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: ScalarSettingsPluginOptions) {
    this.settings = options.settings;
    this.log = options.host.log;
  }

  private get service(): SettingsService {
    if (!this.serviceValue) throw new Error('the plugin was not started');
    return this.serviceValue;
  }

  /** Level-based notices: the fields whose properties the service says changed. */
  async start(): Promise<void> {
    this.serviceValue = await connectSettingsService(this.options.host, this.options.address);
    this.unsubscribe = this.service.onPropertiesChanged((properties) => {
      const fields = this.settings
        .filter((setting) => properties.includes(setting.property))
        .map((setting) => setting.field);
      if (fields.length === 0) return;
      this.log.debug({ fields }, 'changed behind our back');
      this.changes.publish(fields);
    });
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    this.changes.clear();
    this.serviceValue?.stop();
    return Promise.resolve();
  }

  observe(desired: Section, ctx: PluginContext): Promise<ObservedSettings> {
    const named = this.settings.filter((s) => fieldsOf(desired)[s.field] !== undefined);
    return this.service.read(propertiesFor(named), ctx.signal, ctx.priority);
  }

  plan(desired: Section, observed: ObservedSettings): PlannedChange[] {
    return planSettings(this.settings, fieldsOf(desired), observed);
  }

  /** One setter call per change, in plan order; a refusal fails that resource only. */
  async apply(
    changes: PlannedChange[],
    _desired: Section,
    _observed: ObservedSettings,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    const outcomes: ResourceOutcome[] = [];
    for (const change of changes) {
      ctx.signal.throwIfAborted();
      const setting = this.settings.find((s) => s.field === change.resource);
      if (!setting) throw new Error(`no setting named '${change.resource}'`);
      try {
        await this.service.call(setting.setter, setting.signature, setting.args(change.to), {
          signal: ctx.signal,
        });
        outcomes.push({ resource: change.resource, outcome: 'changed', action: change.action });
        ctx.log.info({ resource: change.resource, from: change.from, to: change.to }, 'set');
        ctx.progress({ resource: change.resource, phase: 'done', percent: 100, message: 'set' });
      } catch (err) {
        ctx.signal.throwIfAborted();
        const error = errorMessage(err);
        ctx.log.warn({ resource: change.resource, error }, 'setting refused');
        outcomes.push({
          resource: change.resource,
          outcome: 'failed',
          action: change.action,
          error,
          failure: failureKindOf(err),
        });
      }
    }
    return outcomes;
  }

  /** The current values; a service that cannot be read at all makes the plugin unreadable. */
  async query(ctx: PluginContext): Promise<Section> {
    const observed = await this.service.read(
      propertiesFor(this.settings),
      ctx.signal,
      ctx.priority,
    );
    const errors = Object.values(observed).flatMap((reading) =>
      'error' in reading ? [reading.error] : [],
    );
    if (errors.length === this.settings.length) {
      throw retryableFailure(`${this.service.address.busName} cannot be read: ${errors[0] ?? ''}`);
    }
    // Safe: every value currentSettings keeps has passed its field's schema.
    return currentSettings(this.settings, observed) as Section;
  }

  /** The named fields as they are now: what a rollback sets back. */
  capture(desired: Section, observed: ObservedSettings): Capture<Section> {
    const { section, restore } = captureSettings(this.settings, fieldsOf(desired), observed);
    // Safe: captureSettings keeps only values that passed their field's schema.
    return { section: section as Section, restore };
  }

  /** Only the named fields, so a drift check re-reads just what changed. */
  narrow(desired: Section, resources: readonly string[]): Section {
    const fields = Object.entries(fieldsOf(desired)).filter(([field]) => resources.includes(field));
    // Safe: a subset of a valid section's optional fields is a valid section.
    return Object.fromEntries(fields) as Section;
  }
}

function fieldsOf(section: object): Readonly<Record<string, unknown>> {
  return section as Readonly<Record<string, unknown>>;
}
