import { parseArgs } from 'node:util';
import { Daemon, DEFAULT_INTERFACE_FILE, type DaemonOptions } from './daemon.js';
import { createLogger, isLogLevel, LOG_LEVELS } from './logger.js';

const DAEMON_USAGE = `Usage: op-dbus daemon [OPTIONS]

  --bus ADDRESS              bus to serve on: 'system' (default; honours DBUS_SYSTEM_BUS_ADDRESS) or a D-Bus address
  --systemd-bus BUS          systemd manager to drive: system (default), user ($XDG_RUNTIME_DIR/bus) or a D-Bus address
  --log-level LEVEL          ${LOG_LEVELS.join(', ')} (default info)
  --job-retention SECONDS    how long a finished job stays readable on the bus (default 600)
  --max-retained-jobs N      at most this many finished jobs are kept (default 100)
  --allow-untrusted          let PackageKit install from unsigned repositories (test backends, local repos)`;

function positiveNumber(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0)
    throw new Error(`${flag} must be a positive number, got '${value}'`);
  return number;
}

/** `op-dbus daemon`: runs until SIGTERM/SIGINT; exits non-zero when the bus goes away. */
export async function runDaemonCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      bus: { type: 'string', default: 'system' },
      'systemd-bus': { type: 'string', default: 'system' },
      'log-level': { type: 'string', default: 'info' },
      'job-retention': { type: 'string', default: '600' },
      'max-retained-jobs': { type: 'string', default: '100' },
      'allow-untrusted': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${DAEMON_USAGE}\n`);
    return 0;
  }
  const level = values['log-level'];
  if (!isLogLevel(level)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const options: DaemonOptions = {
    busAddress: values.bus,
    systemdBus: values['systemd-bus'],
    interfaceFile: DEFAULT_INTERFACE_FILE,
    jobRetentionMs: positiveNumber(values['job-retention'], '--job-retention') * 1000,
    maxRetainedJobs: Math.floor(positiveNumber(values['max-retained-jobs'], '--max-retained-jobs')),
    plugins: { packagekit: { onlyTrusted: !values['allow-untrusted'] } },
  };
  const log = createLogger(level);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection'));
  let stopping = false;
  const daemon = await Daemon.start(options, log, () => {
    if (stopping) return;
    log.fatal('lost the bus connection; exiting so the service manager restarts the daemon');
    process.exit(1);
  });
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string): void => {
      if (stopping) return;
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
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}
