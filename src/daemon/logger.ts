import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

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

/** pino's level numbers as syslog priorities (journald reads a `<N>` line prefix). */
function syslogPriority(pinoLevel: number): number {
  if (pinoLevel >= 60) return 2; // fatal: crit
  if (pinoLevel >= 50) return 3; // error: err
  if (pinoLevel >= 40) return 4; // warn: warning
  if (pinoLevel >= 30) return 6; // info
  return 7; // debug, trace
}

/**
 * When stdout is journald's ($JOURNAL_STREAM is set by systemd), each JSON line gets
 * a `<N>` priority prefix so `journalctl -p warning` filters by level.
 */
function withJournalPriorities(
  destination: ReturnType<typeof pino.destination>,
): DestinationStream & { flush(cb?: (err?: Error) => void): void } {
  return {
    flush: (cb) => destination.flush(cb),
    write(line: string): void {
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 30);
      destination.write(`<${syslogPriority(level)}>${line}`);
    },
  };
}

/** JSON lines on the given file descriptor: journald keeps them under systemd. */
export function createLogger(
  level: LevelWithSilent,
  fd: 1 | 2 = 1,
  env: NodeJS.ProcessEnv = process.env,
): Logger {
  const destination = pino.destination({ fd, sync: false });
  const stream = env.JOURNAL_STREAM ? withJournalPriorities(destination) : destination;
  return pino({ level, base: { name: 'op-dbus' } }, stream);
}
