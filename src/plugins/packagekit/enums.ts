/**
 * The PackageKit enum values this plugin reads and sends (PackageKit 1.2,
 * pk-enum.h). Only what is used is listed.
 */

/** Filters are a bitfield: bit n is filter enum n. */
export const Filter = {
  none: 1n << 1n,
  installed: 1n << 2n,
  notInstalled: 1n << 3n,
} as const;

/** TransactionFlags bitfield. */
export const TransactionFlag = {
  none: 0n,
  onlyTrusted: 1n << 1n,
  allowDowngrade: 1n << 6n,
} as const;

/** The info value of a Package signal. */
export const Info = {
  installed: 1,
  available: 2,
  downloading: 10,
  updating: 11,
  installing: 12,
  removing: 13,
  finished: 18,
  reinstalling: 19,
  downgrading: 20,
  preparing: 21,
  decompressing: 22,
} as const;

/** The exit value of a Finished signal. */
export const Exit = {
  success: 1,
  failed: 2,
  cancelled: 3,
} as const;

/** The unknown-percentage value of a transaction's Percentage property. */
export const PERCENTAGE_UNKNOWN = 101;

/** Transaction Status values mapped to the phase names op-dbus reports. */
const STATUS_PHASES: Record<number, [phase: string, status: string]> = {
  1: ['waiting', 'wait'],
  2: ['resolving', 'setup'],
  3: ['resolving', 'running'],
  4: ['resolving', 'query'],
  5: ['resolving', 'info'],
  6: ['removing', 'remove'],
  7: ['downloading', 'refresh-cache'],
  8: ['downloading', 'download'],
  9: ['installing', 'install'],
  10: ['installing', 'update'],
  11: ['installing', 'cleanup'],
  12: ['installing', 'obsolete'],
  13: ['resolving', 'dep-resolve'],
  14: ['verifying', 'sig-check'],
  15: ['installing', 'test-commit'],
  16: ['installing', 'commit'],
  17: ['resolving', 'request'],
  18: ['finished', 'finished'],
  19: ['cancelling', 'cancel'],
  20: ['downloading', 'download-repository'],
  21: ['downloading', 'download-packagelist'],
  22: ['downloading', 'download-filelist'],
  23: ['downloading', 'download-changelog'],
  24: ['downloading', 'download-group'],
  25: ['downloading', 'download-updateinfo'],
  26: ['installing', 'repackaging'],
  27: ['resolving', 'loading-cache'],
  28: ['installing', 'scan-applications'],
  29: ['installing', 'generate-package-list'],
  30: ['waiting', 'waiting-for-lock'],
  31: ['waiting', 'waiting-for-auth'],
  32: ['installing', 'scan-process-list'],
  33: ['installing', 'check-executable-files'],
  34: ['installing', 'check-libraries'],
  35: ['installing', 'copy-files'],
  36: ['installing', 'run-hook'],
};

export function statusPhase(status: number): { phase: string; status: string } {
  const [phase, name] = STATUS_PHASES[status] ?? ['working', `status-${status}`];
  return { phase, status: name };
}

/** The phase a Package signal's info value announces for one package, if any. */
export function infoPhase(info: number): string | undefined {
  switch (info) {
    case Info.downloading:
      return 'downloading';
    case Info.installing:
    case Info.updating:
    case Info.reinstalling:
    case Info.downgrading:
      return 'installing';
    case Info.removing:
      return 'removing';
    case Info.preparing:
    case Info.decompressing:
      return 'unpacking';
    case Info.finished:
      return 'done';
    default:
      return undefined;
  }
}
