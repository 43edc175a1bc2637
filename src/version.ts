import { existsSync, readFileSync } from 'node:fs';

/**
 * Where the package's own files (package.json, dbus-interfaces/, dist/validators/)
 * live: the nearest folder above this module with a package.json. This module
 * sits in src/ under tsx, in dist/ as built, and in dist/bundle/ when bundled.
 */
function packageRoot(): URL {
  for (let url = new URL('../', import.meta.url), i = 0; i < 3; url = new URL('../', url), i += 1)
    if (existsSync(new URL('package.json', url))) return url;
  throw new Error(`no package.json above ${import.meta.url}`);
}

export const PACKAGE_ROOT = packageRoot();

function readVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

export const VERSION = readVersion();
