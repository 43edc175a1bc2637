import { readFileSync } from 'node:fs';

/** Where the package's own files (package.json, dbus-interfaces/) live, next to dist/. */
export const PACKAGE_ROOT = new URL('../', import.meta.url);

function readVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

export const VERSION = readVersion();
