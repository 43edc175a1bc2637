import { readFile } from 'node:fs/promises';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import cron from 'node-cron';
import { SchemaChecker } from '../document/validator.js';
import { errorMessage } from '../errors.js';
import type { PluginDefinition } from '../plugins/definition.js';
import { pluginsConfigSchema } from '../plugins/registry.js';
import {
  checkFleetSemantics,
  FleetSettingsSchema,
  type FleetSettingsFile,
} from '../fleet/config.js';
import { LOG_LEVELS } from './logger.js';

export const DEFAULT_CONFIG_FILE = '/etc/op-dbus/op-dbus.json';

/** The daemon's own settings; each plugin's settings live under `plugins.NAME`. */
const DaemonSettings = {
  stateDir: Type.Optional(Type.String({ minLength: 1, description: 'Where desired.json lives.' })),
  driftSchedule: Type.Optional(
    Type.String({ minLength: 1, description: 'node-cron expression for the periodic full check.' }),
  ),
  logLevel: Type.Optional(
    Type.Unsafe<(typeof LOG_LEVELS)[number]>({ type: 'string', enum: [...LOG_LEVELS] }),
  ),
  jobRetentionSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  maxRetainedJobs: Type.Optional(Type.Integer({ minimum: 1 })),
  driftCorrection: Type.Optional(
    Type.Boolean({ description: 'false: report drift but never correct it (audit mode).' }),
  ),
  maxReadsPerUid: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'Reads one non-root uid may have in flight; more get org.opdbus.Error.Busy.',
    }),
  ),
  maxUnprivilegedDocumentBytes: Type.Optional(
    Type.Integer({
      minimum: 1024,
      description: 'The largest document a non-root caller may Plan.',
    }),
  ),
};
const DaemonSettingsSchema = Type.Object(DaemonSettings);
type DaemonSettings = Static<typeof DaemonSettingsSchema>;

/** The configuration file's schema, composed with every plugin's settings schema. */
export function configSchema(plugins: readonly PluginDefinition[]): TSchema {
  return Type.Object(
    {
      ...DaemonSettingsSchema.properties,
      plugins: Type.Optional(pluginsConfigSchema(plugins)),
      fleet: Type.Optional(FleetSettingsSchema),
    },
    { additionalProperties: false },
  );
}

export type PluginSettings = Record<string, Record<string, unknown>>;
export type ConfigFile = DaemonSettings & { plugins?: PluginSettings; fleet?: FleetSettingsFile };

/** Every setting, after defaults, file and flags (flags win). `fleet` absent: not a fleet node. */
export type Config = Required<DaemonSettings> & {
  bus: string;
  plugins: PluginSettings;
  fleet?: FleetSettingsFile;
};

export const DEFAULTS: Omit<Config, 'plugins'> = {
  bus: 'system',
  stateDir: '/var/lib/op-dbus',
  driftSchedule: '*/15 * * * *',
  logLevel: 'info',
  jobRetentionSeconds: 600,
  maxRetainedJobs: 100,
  driftCorrection: true,
  maxReadsPerUid: 4,
  maxUnprivilegedDocumentBytes: 256 * 1024,
};

export class ConfigError extends Error {}

/** Checks what the schema cannot: the cron expression. */
function checkSemantics(config: Partial<Config>, source: string): void {
  if (config.driftSchedule !== undefined && !cron.validate(config.driftSchedule)) {
    throw new ConfigError(
      `${source}: /driftSchedule: '${config.driftSchedule}' is not a valid cron expression`,
    );
  }
}

/**
 * Reads the configuration file. A missing default file means defaults; a missing
 * file the administrator named, or an invalid one, is an error naming the problem.
 */
export async function readConfigFile(
  path: string,
  explicit: boolean,
  plugins: readonly PluginDefinition[],
): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read configuration ${path}: ${errorMessage(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON: ${errorMessage(err)}`);
  }
  const problems = new SchemaChecker(configSchema(plugins)).problems(value);
  if (problems.length > 0) throw new ConfigError(`${path} is invalid:\n  ${problems.join('\n  ')}`);
  const file = value as ConfigFile;
  checkSemantics(file, path);
  try {
    if (file.fleet) checkFleetSemantics(file.fleet);
  } catch (err) {
    throw new ConfigError(`${path}: ${errorMessage(err)}`);
  }
  return file;
}

/**
 * `--plugin-option NAME.KEY=VALUE` flags as plugin settings. VALUE is read as
 * JSON when it is JSON (true, 5, "x"), else as a string.
 */
export function parsePluginOptions(options: readonly string[]): PluginSettings {
  const settings: PluginSettings = {};
  for (const option of options) {
    const match = /^([a-z][a-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)=(.*)$/s.exec(option);
    if (!match) throw new ConfigError(`--plugin-option must be NAME.KEY=VALUE, got '${option}'`);
    const [, plugin = '', key = '', raw = ''] = match;
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A plain string.
    }
    settings[plugin] = { ...settings[plugin], [key]: value };
  }
  return settings;
}

/**
 * Each plugin's settings: its defaults, then the file's section, then flags;
 * the result is checked against the plugin's schema (a flag is validated too).
 */
function mergePluginSettings(
  plugins: readonly PluginDefinition[],
  file: PluginSettings,
  flags: PluginSettings,
): PluginSettings {
  const merged: PluginSettings = {};
  for (const name of Object.keys(flags)) {
    if (!plugins.some((plugin) => plugin.name === name && plugin.config))
      throw new ConfigError(`--plugin-option: plugin '${name}' has no settings`);
  }
  for (const plugin of plugins) {
    if (!plugin.config) continue;
    const settings = {
      ...(plugin.config.defaults as Record<string, unknown>),
      ...file[plugin.name],
      ...flags[plugin.name],
    };
    const problems = new SchemaChecker(plugin.config.schema).problems(settings);
    if (problems.length > 0)
      throw new ConfigError(`plugins.${plugin.name}: ${problems.join('; ')}`);
    merged[plugin.name] = settings;
  }
  return merged;
}

/**
 * Defaults, then what systemd says ($STATE_DIRECTORY from StateDirectory=), then
 * the file, then the flags that were given.
 */
export function mergeConfig(
  plugins: readonly PluginDefinition[],
  file: ConfigFile,
  flags: Partial<Omit<Config, 'plugins'>> & { plugins?: PluginSettings },
  env: NodeJS.ProcessEnv = process.env,
): Config {
  checkSemantics(flags, 'command line');
  const defined = Object.fromEntries(
    Object.entries(flags).filter(([key, value]) => value !== undefined && key !== 'plugins'),
  );
  const fromSystemd = env.STATE_DIRECTORY
    ? { stateDir: env.STATE_DIRECTORY.split(':')[0] as string }
    : {};
  const { plugins: filePlugins = {}, fleet, ...fileSettings } = file;
  return {
    ...DEFAULTS,
    ...fromSystemd,
    ...fileSettings,
    ...defined,
    plugins: mergePluginSettings(plugins, filePlugins, flags.plugins ?? {}),
    ...(fleet ? { fleet } : {}),
  };
}
