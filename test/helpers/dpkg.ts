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
