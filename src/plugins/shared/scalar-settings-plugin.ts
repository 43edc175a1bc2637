import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { PlannedChange, Plugin, PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { errorMessage } from '../../errors.js';
import {
  currentSettings,
  planSettings,
  propertiesFor,
  type ObservedSettings,
  type ScalarSetting,
} from './scalar-settings.js';
import {
  SettingsService,
  type HostSettingsDependencies,
  type ServiceAddress,
} from './settings-service.js';

export interface ScalarSettingsPluginOptions extends HostSettingsDependencies {
  name: string;
  schema: TSchema;
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
  readonly name: string;
  readonly schema: TSchema;
  private readonly service: SettingsService;
  private readonly settings: readonly ScalarSetting[];
  private readonly log: Logger;

  constructor(options: ScalarSettingsPluginOptions) {
    this.name = options.name;
    this.schema = options.schema;
    this.settings = options.settings;
    this.log = options.log.child({ plugin: options.name });
    this.service = new SettingsService(options.bus, options.router, options.address);
  }

  start(): Promise<void> {
    return this.service.listen();
  }

  stop(): Promise<void> {
    this.service.stop();
    return Promise.resolve();
  }

  observe(desired: Section): Promise<ObservedSettings> {
    const named = this.settings.filter((s) => fieldsOf(desired)[s.field] !== undefined);
    return this.service.read(propertiesFor(named));
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
        await this.service.call(setting.setter, setting.signature, setting.args(change.to));
        outcomes.push({ resource: change.resource, outcome: 'changed', action: change.action });
        ctx.log.info({ resource: change.resource, from: change.from, to: change.to }, 'set');
        ctx.progress({ resource: change.resource, phase: 'done', percent: 100, message: 'set' });
      } catch (err) {
        const error = errorMessage(err);
        ctx.log.warn({ resource: change.resource, error }, 'setting refused');
        outcomes.push({
          resource: change.resource,
          outcome: 'failed',
          action: change.action,
          error,
        });
      }
    }
    return outcomes;
  }

  /**
   * A service that cannot be read at all (not installed here) gives an empty
   * section, which is still true: it plans nothing. The log says why.
   */
  async query(ctx: PluginContext): Promise<Section> {
    const observed = await this.service.read(propertiesFor(this.settings));
    const errors = Object.values(observed).flatMap((reading) =>
      'error' in reading ? [reading.error] : [],
    );
    if (errors.length === this.settings.length) {
      ctx.log.warn(
        { service: this.service.address.busName, error: errors[0] },
        'service unreadable',
      );
    }
    // Safe: every value currentSettings keeps has passed its field's schema.
    return currentSettings(this.settings, observed) as Section;
  }

  /** Only the named fields, so a drift check re-reads just what changed. */
  narrow(desired: Section, resources: readonly string[]): Section {
    const fields = Object.entries(fieldsOf(desired)).filter(([field]) => resources.includes(field));
    // Safe: a subset of a valid section's optional fields is a valid section.
    return Object.fromEntries(fields) as Section;
  }

  /** Level-based: names the fields whose properties the service says changed. */
  watch(notify: (resources?: readonly string[]) => void): () => void {
    return this.service.onPropertiesChanged((properties) => {
      const fields = this.settings
        .filter((setting) => properties.includes(setting.property))
        .map((setting) => setting.field);
      if (fields.length === 0) return;
      this.log.debug({ fields }, 'changed behind our back');
      notify(fields);
    });
  }
}

function fieldsOf(section: object): Readonly<Record<string, unknown>> {
  return section as Readonly<Record<string, unknown>>;
}
