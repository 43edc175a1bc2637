import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { publishedSchemas } from '../../../src/document/published-schemas.js';
import { PLUGINS } from '../../../src/plugins/registry.js';

const dir = new URL('../../../docs/schema/', import.meta.url);

describe('schemas published in docs/schema', () => {
  it('are exactly what the code validates with (run `npm run schemas` after a change)', async () => {
    const expected = publishedSchemas(PLUGINS);
    assert.deepEqual((await readdir(dir)).sort(), [...expected.keys()].sort());
    for (const [name, text] of expected) {
      assert.equal(
        await readFile(new URL(name, dir), 'utf8'),
        text,
        `docs/schema/${name} is stale`,
      );
    }
  });

  it('declare draft 2020-12 and name every plugin', () => {
    const whole = JSON.parse(publishedSchemas(PLUGINS).get('op-dbus.schema.json') as string) as {
      $schema: string;
      properties: { plugins: { properties: object } };
    };
    assert.equal(whole.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(
      Object.keys(whole.properties.plugins.properties),
      PLUGINS.map((p) => p.name),
    );
  });
});
