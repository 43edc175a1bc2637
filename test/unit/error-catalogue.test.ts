import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ErrorName } from '../../src/errors.js';

describe('error catalogue', () => {
  it('docs/dbus-api.md lists exactly the error names the code uses', async () => {
    const doc = await readFile(new URL('../../docs/dbus-api.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Errors'));
    const documented = [...section.matchAll(/^\| `([a-zA-Z.]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), Object.values(ErrorName).sort());
  });

  it('names only org.opdbus.Error.* or standard D-Bus errors', () => {
    for (const name of Object.values(ErrorName)) {
      assert.match(name, /^(org\.opdbus\.Error|org\.freedesktop\.DBus\.Error)\.[A-Z][A-Za-z]+$/);
    }
  });
});
