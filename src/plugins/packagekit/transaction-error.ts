import { serviceFailure } from '../../dbus/service-errors.js';
import { boundedText, ErrorName, PluginFailure } from '../../errors.js';

/** One Package signal: a package id split into its parts. */
export interface PkPackage {
  info: number;
  id: string;
  name: string;
  version: string;
  arch: string;
  data: string;
  summary: string;
}

export function parsePackageId(info: number, id: string, summary: string): PkPackage {
  const [name = '', version = '', arch = '', data = ''] = id.split(';');
  return { info, id, name, version, arch, data, summary };
}

/**
 * PackageKit's error codes (pk-enum.h, PkErrorEnum) after which retrying the same
 * request cannot help until something changes: the package, a version or a
 * signature is not there, dependencies cannot be met, the package is refused.
 * Everything else (no network, a lock held, a download that failed, ...) is
 * worth retrying.
 */
const TERMINAL_CODES: Record<number, string> = {
  3: 'not-supported',
  5: 'gpg-failure',
  6: 'package-id-invalid',
  7: 'package-not-installed',
  8: 'package-not-found',
  13: 'dep-resolution-failed',
  19: 'repo-not-found',
  20: 'cannot-remove-system-package',
  30: 'bad-gpg-signature',
  31: 'missing-gpg-signature',
  34: 'no-license-agreement',
  35: 'file-conflicts',
  36: 'package-conflicts',
  38: 'invalid-package-file',
  39: 'package-install-blocked',
  40: 'package-corrupt',
  45: 'incompatible-architecture',
  48: 'not-authorized',
  50: 'cannot-install-repo-unsigned',
  51: 'cannot-update-repo-unsigned',
};

/** A transaction that PackageKit finished with an error, with PackageKit's own words. */
export class PackageKitError extends PluginFailure {
  constructor(
    readonly code: number,
    details: string,
  ) {
    super(TERMINAL_CODES[code] === undefined ? 'retryable' : 'terminal', boundedText(details));
    this.name = 'PackageKitError';
  }
}

/**
 * PackageKit refuses new transactions from a uid that has too many (about 500
 * recent ones): that is "busy, retry later", not "not reachable".
 */
export function busyOrFailure(err: unknown): Error {
  const failure = serviceFailure('PackageKit', err);
  if (!/already has \d+ transactions/.test(failure.message)) return failure;
  return new PluginFailure('retryable', `PackageKit is busy: ${failure.message}`, ErrorName.Busy);
}
