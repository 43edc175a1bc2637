import { execFileSync, spawnSync } from 'node:child_process';

/** What dpkg itself says, independent of PackageKit and op-dbus. */
export function dpkgInstalled(name: string): boolean {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/** Puts a package back the way the test found it (cleanup, not the product). */
export function restorePackage(name: string, wasInstalled: boolean): void {
  if (dpkgInstalled(name) === wasInstalled) return;
  execFileSync('apt-get', [wasInstalled ? 'install' : 'remove', '-y', '-q', name], {
    stdio: 'ignore',
  });
}

/** Whether dpkg knows the package at all (installed, or removed with its configuration kept). */
export function dpkgKnows(name: string): boolean {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && !result.stdout.includes('not-installed');
}

/**
 * Puts a package back the way the test found it, including a package dpkg did
 * not know at all before: then its leftover configuration is purged too.
 */
export function restorePackageFully(
  name: string,
  before: { installed: boolean; known: boolean },
): void {
  restorePackage(name, before.installed);
  if (!before.known && dpkgKnows(name))
    execFileSync('dpkg', ['--purge', name], { stdio: 'ignore' });
}
