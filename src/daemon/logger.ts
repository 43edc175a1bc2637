import { pino, type Logger, type LevelWithSilent } from 'pino';

export const LOG_LEVELS: readonly LevelWithSilent[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export function isLogLevel(value: string): value is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** JSON lines on the given file descriptor: journald keeps them under systemd. */
export function createLogger(level: LevelWithSilent, fd: 1 | 2 = 1): Logger {
  return pino({ level, base: { name: 'op-dbus' } }, pino.destination({ fd, sync: false }));
}
