import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import cron from 'node-cron';
import { SchemaChecker } from '../document/validator.js';
import { errorMessage } from '../errors.js';
import { LOG_LEVELS } from './logger.js';

export const DEFAULT_CONFIG_FILE = '/etc/op-dbus/op-dbus.json';

/** The configuration file's schema: the same ajv validation as documents. */
export const ConfigSchema = Type.Object(
  {
    stateDir: Type.Optional(
      Type.String({ minLength: 1, description: 'Where desired.json lives.' }),
    ),
    driftSchedule: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'node-cron expression for the periodic full check.',
      }),
    ),
    systemdBus: Type.Optional(
      Type.String({ minLength: 1, description: "'system', 'user' or a D-Bus address." }),
    ),
    logLevel: Type.Optional(
      Type.Unsafe<(typeof LOG_LEVELS)[number]>({ type: 'string', enum: [...LOG_LEVELS] }),
    ),
    jobRetentionSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    maxRetainedJobs: Type.Optional(Type.Integer({ minimum: 1 })),
    allowUntrusted: Type.Optional(Type.Boolean()),
    driftCorrection: Type.Optional(
      Type.Boolean({ description: 'false: report drift but never correct it (audit mode).' }),
    ),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigSchema>;

/** Every setting, after defaults, file and flags (flags win). */
export type Config = Required<ConfigFile> & { bus: string };

export const DEFAULTS: Config = {
  bus: 'system',
  stateDir: '/var/lib/op-dbus',
  driftSchedule: '*/15 * * * *',
  systemdBus: 'system',
  logLevel: 'info',
  jobRetentionSeconds: 600,
  maxRetainedJobs: 100,
  allowUntrusted: false,
  driftCorrection: true,
};

export class ConfigError extends Error {}

const checker = new SchemaChecker(ConfigSchema);

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
export async function readConfigFile(path: string, explicit: boolean): Promise<ConfigFile> {
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
  const problems = checker.problems(value);
  if (problems.length > 0) throw new ConfigError(`${path} is invalid:\n  ${problems.join('\n  ')}`);
  const file = value as ConfigFile;
  checkSemantics(file, path);
  return file;
}

/**
 * Defaults, then what systemd says ($STATE_DIRECTORY from StateDirectory=), then
 * the file, then the flags that were given.
 */
export function mergeConfig(
  file: ConfigFile,
  flags: Partial<Config>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  checkSemantics(flags, 'command line');
  const defined = Object.fromEntries(
    Object.entries(flags).filter(([, value]) => value !== undefined),
  );
  const fromSystemd = env.STATE_DIRECTORY
    ? { stateDir: env.STATE_DIRECTORY.split(':')[0] as string }
    : {};
  return { ...DEFAULTS, ...fromSystemd, ...file, ...defined };
}
