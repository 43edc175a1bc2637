import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PACKAGEKIT_DEFAULTS } from '../../src/plugins/packagekit/schema.js';

const UNIT_FILE = new URL('../../systemd/op-dbus.service', import.meta.url);

/** The words of every `KEY=` line in the unit's [Service] section (repeated keys add up). */
function serviceSetting(text: string, key: string): string[] {
  let section = '';
  const words: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1] ?? '';
    else if (section === 'Service' && line.startsWith(`${key}=`))
      words.push(
        ...line
          .slice(key.length + 1)
          .split(/\s+/)
          .filter(Boolean),
      );
  }
  return words;
}

// The shipped unit confines the daemon (ProtectSystem=strict, RestrictAddressFamilies=);
// the systemd-service test cannot run the repositories or fleet paths under it, so
// these checks keep the unit and what the daemon itself does in step.
describe('the shipped unit file lets the daemon do its own work', () => {
  const unit = readFileSync(UNIT_FILE, 'utf8');

  it('leaves the apt sources folder writable: the packagekit plugin writes its own files there', () => {
    assert.deepEqual(serviceSetting(unit, 'ProtectSystem'), ['strict']);
    const writable = serviceSetting(unit, 'ReadWritePaths').map((path) => path.replace(/^-/, ''));
    assert.ok(
      writable.includes(PACKAGEKIT_DEFAULTS.sourcesDir),
      `ReadWritePaths= lacks ${PACKAGEKIT_DEFAULTS.sourcesDir} (has: ${writable.join(' ') || 'nothing'})`,
    );
  });

  it('allows IP sockets for etcd (a fleet node) beside Unix sockets for the bus and OVSDB', () => {
    const families = serviceSetting(unit, 'RestrictAddressFamilies');
    for (const family of ['AF_UNIX', 'AF_INET', 'AF_INET6'])
      assert.ok(families.includes(family), `RestrictAddressFamilies= lacks ${family}`);
  });
});
