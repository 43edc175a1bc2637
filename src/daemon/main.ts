import { parseArgs } from 'node:util';
import { PLUGINS } from '../plugins/registry.js';
import {
  ConfigError,
  DEFAULT_CONFIG_FILE,
  mergeConfig,
  parsePluginOptions,
  readConfigFile,
  type Config,
  type PluginSettings,
} from './config.js';
import { Daemon } from './daemon.js';
import { createLogger, isLogLevel, LOG_LEVELS } from './logger.js';
import { SdNotify } from './sd-notify.js';

const DAEMON_USAGE = `Usage: op-dbus daemon [OPTIONS]

Settings come from the configuration file (default ${DEFAULT_CONFIG_FILE}); a flag wins over the file.

  --config FILE              configuration file (JSON, see docs/operations.md)
  --bus ADDRESS              bus to serve on: 'system' (default; honours DBUS_SYSTEM_BUS_ADDRESS) or a D-Bus address
  --state-dir DIR            where the desired state is persisted (default /var/lib/op-dbus)
  --drift-schedule CRON      periodic full drift check, node-cron syntax (default '*/15 * * * *')
  --log-level LEVEL          ${LOG_LEVELS.join(', ')} (default info)
  --job-retention SECONDS    how long a finished job stays readable on the bus (default 600)
  --max-retained-jobs N      at most this many finished jobs are kept (default 100)
  --no-drift-correction      report drift (DriftDetected, Conditions) but never correct it
  --plugin-option NAME.KEY=VALUE
                             one plugin setting (repeatable; VALUE is JSON or a string), e.g.
                             systemd.bus=user, packagekit.onlyTrusted=false (docs/operations.md)

Signals: SIGTERM/SIGINT finish or cancel the running job and exit 0; SIGHUP reloads the configuration.`;

function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0)
    throw new ConfigError(`${flag} must be a positive number, got '${value}'`);
  return number;
}

interface ParsedFlags {
  configFile: string;
  explicitConfig: boolean;
  flags: Partial<Omit<Config, 'plugins'>> & { plugins: PluginSettings };
  help: boolean;
}

function parseFlags(args: string[]): ParsedFlags {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      bus: { type: 'string' },
      'state-dir': { type: 'string' },
      'drift-schedule': { type: 'string' },
      'log-level': { type: 'string' },
      'job-retention': { type: 'string' },
      'max-retained-jobs': { type: 'string' },
      'plugin-option': { type: 'string', multiple: true },
      'no-drift-correction': { type: 'boolean' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const level = values['log-level'];
  if (level !== undefined && !isLogLevel(level))
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const maxJobs = positiveNumber(values['max-retained-jobs'], '--max-retained-jobs');
  return {
    configFile: values.config ?? DEFAULT_CONFIG_FILE,
    explicitConfig: values.config !== undefined,
    help: values.help,
    flags: {
      bus: values.bus,
      stateDir: values['state-dir'],
      driftSchedule: values['drift-schedule'],
      logLevel: level,
      jobRetentionSeconds: positiveNumber(values['job-retention'], '--job-retention'),
      maxRetainedJobs: maxJobs === undefined ? undefined : Math.floor(maxJobs),
      plugins: parsePluginOptions(values['plugin-option'] ?? []),
      driftCorrection: values['no-drift-correction'] ? false : undefined,
    },
  };
}

async function loadConfig(parsed: ParsedFlags): Promise<Config> {
  const file = await readConfigFile(parsed.configFile, parsed.explicitConfig, PLUGINS);
  return mergeConfig(PLUGINS, file, parsed.flags);
}

/** `op-dbus daemon`: runs until SIGTERM/SIGINT; exits non-zero when a bus goes away. */
export async function runDaemonCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args);
  if (parsed.help) {
    process.stdout.write(`${DAEMON_USAGE}\n`);
    return 0;
  }
  let config = await loadConfig(parsed);
  const log = createLogger(config.logLevel);
  const notify = new SdNotify(log);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection'));
  let stopping = false;
  // Handlers go in before start-up: a SIGHUP or SIGTERM that arrives while the
  // daemon starts must not hit Node's default action (exit) and must not be lost.
  const started: { daemon?: Daemon; reloadPending: boolean } = { reloadPending: false };
  const reload = (): void => {
    const running = started.daemon;
    if (!running) {
      started.reloadPending = true;
      return;
    }
    loadConfig(parsed).then(
      async (next) => {
        await running.reload(next, config);
        config = next;
      },
      (err: unknown) =>
        log.error({ err: String(err) }, 'configuration reload failed; keeping the old one'),
    );
  };
  let shutdown: (signal: string) => void = () => {
    stopping = true;
  };
  process.on('SIGHUP', reload);
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config, {
      log,
      notify,
      onBusLost: () => {
        if (stopping) return;
        log.fatal('lost the bus connection; exiting so the service manager restarts the daemon');
        log.flush();
        process.exit(1);
      },
    });
  } catch (err) {
    // Half-started pieces (a bus connection, timers) would keep the process alive:
    // a daemon that cannot start must exit, so systemd sees the failure.
    log.fatal({ err: String(err) }, 'start-up failed');
    log.flush();
    process.exit(1);
  }
  started.daemon = daemon;
  if (started.reloadPending) reload();
  return new Promise<number>((resolve) => {
    shutdown = (signal) => {
      if (stopping && signal !== 'startup') return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      daemon.stop().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    // A stop requested during start-up is honoured now.
    if (stopping) shutdown('startup');
  });
}
