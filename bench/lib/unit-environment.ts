import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NotifyListener } from './readiness.js';

/** The unit file the daemon is installed with (scripts/install.sh copies it as it is). */
export const UNIT_FILE = fileURLToPath(new URL('../../systemd/op-dbus.service', import.meta.url));

/** The `[Service]` settings that shape the daemon's process, as systemd reads them. */
export interface UnitSettings {
  /** Environment= assignments, in order (later ones win, as in systemd). */
  environment: Record<string, string>;
  /** WatchdogSec= in microseconds; undefined when unset or 0. */
  watchdogUsec: number | undefined;
  /** Type=notify: systemd gives the daemon a NOTIFY_SOCKET. */
  notify: boolean;
  /** StateDirectory=: systemd exports STATE_DIRECTORY. */
  stateDirectory: boolean;
  /** StandardOutput= unset or journal: systemd exports JOURNAL_STREAM. */
  journal: boolean;
  /** The ExecStart= line, for the report. */
  execStart: string;
}

/** Words of an Environment= value: space-separated, each optionally in double quotes. */
function environmentWords(value: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of value.matchAll(pattern)) words.push(match[1] ?? match[2] ?? '');
  return words;
}

/** systemd time spans as WatchdogSec= takes them: "30s", "1min", "500ms", "30". */
function timeSpanUsec(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(us|ms|s|sec|m|min)?$/.exec(text.trim());
  if (!match) return undefined;
  const factor: Record<string, number> = {
    us: 1,
    ms: 1e3,
    s: 1e6,
    sec: 1e6,
    m: 60e6,
    min: 60e6,
  };
  const usec = Number(match[1]) * (factor[match[2] ?? 's'] ?? 1e6);
  return usec > 0 ? usec : undefined;
}

/** Reads the settings the bench reproduces from the unit file's [Service] section. */
export function readUnitSettings(path = UNIT_FILE): UnitSettings {
  const settings: UnitSettings = {
    environment: {},
    watchdogUsec: undefined,
    notify: false,
    stateDirectory: false,
    journal: true,
    execStart: '',
  };
  let section = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    if (section !== 'Service') continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'Environment') {
      for (const word of environmentWords(value)) {
        const at = word.indexOf('=');
        if (at > 0) settings.environment[word.slice(0, at)] = word.slice(at + 1);
      }
    } else if (key === 'WatchdogSec') settings.watchdogUsec = timeSpanUsec(value);
    else if (key === 'Type') settings.notify = value === 'notify';
    else if (key === 'StateDirectory') settings.stateDirectory = value !== '';
    else if (key === 'StandardOutput') settings.journal = value === 'journal';
    else if (key === 'ExecStart') settings.execStart = value;
  }
  return settings;
}

/**
 * The daemon's environment as systemd would give it under the unit: the unit's
 * Environment= (NODE_OPTIONS), NOTIFY_SOCKET (a socket the bench listens on,
 * so WATCHDOG=1 pings go somewhere as they would), WATCHDOG_USEC, STATE_DIRECTORY
 * and JOURNAL_STREAM (the logger then writes journald's priority prefixes).
 * The unit's sandboxing (ProtectSystem=, PrivateTmp=, ...) is not reproduced:
 * it changes what the daemon may touch, not its CPU or memory.
 */
export function unitEnvironment(stateDir: string): {
  env: NodeJS.ProcessEnv;
  listener: NotifyListener | undefined;
  settings: UnitSettings;
} {
  const settings = readUnitSettings();
  const env: NodeJS.ProcessEnv = { ...settings.environment };
  let listener: NotifyListener | undefined;
  if (settings.notify) {
    listener = new NotifyListener();
    env.NOTIFY_SOCKET = listener.path;
    if (settings.watchdogUsec !== undefined) env.WATCHDOG_USEC = String(settings.watchdogUsec);
  }
  if (settings.stateDirectory) env.STATE_DIRECTORY = stateDir;
  if (settings.journal) env.JOURNAL_STREAM = '0:0';
  return { env, listener, settings };
}
