import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { Type, type TSchema } from '@sinclair/typebox';
import { configSchema } from '../../../src/daemon/config.js';
import { newAjv } from '../../../src/document/compiled-schemas.js';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { PLUGINS } from '../../../src/plugins/registry.js';

// The build's validators, as the daemon loads them (npm test builds first).
const built = (await import(
  new URL('../../../dist/document/compiled-schemas.js', import.meta.url).href
)) as { precompiledValidator(schema: TSchema): ValidateFunction | undefined };

/** What a problem report is made of; parentSchema is compared by its title and keys. */
function verdict(validate: ValidateFunction, value: unknown) {
  const valid = validate(value);
  return {
    valid,
    errors: (validate.errors ?? []).map((e) => ({
      path: e.instancePath,
      keyword: e.keyword,
      params: e.params as unknown,
      parent: Object.keys((e.parentSchema as object | undefined) ?? {}).sort(),
    })),
  };
}

const documentSchema = buildDocumentSchema(PLUGINS);
const documents: unknown[] = [
  { version: 1, plugins: {} },
  { version: 2, plugins: {} },
  { version: 1, plugins: { nosuch: {} } },
  { version: 1, plugins: { systemd: { units: { 'not a unit': { active: true } } } } },
  { version: 1, plugins: { systemd: { units: { 'a.service': { active: 'maybe' } } } } },
  { version: 1, plugins: { packagekit: { packages: { glib2: { ensure: 'sideways' } } } } },
  {
    version: 1,
    plugins: {
      network: {
        interfaces: [
          {
            name: 'br0',
            type: 'linux-bridge',
            state: 'up',
            ipv4: { enabled: true, address: [{ ip: '300.1.1.1', 'prefix-length': 24 }] },
          },
        ],
      },
    },
  },
  { version: 1, plugins: { openvswitch: { bridges: { vmbr0: { ports: { p: { tag: 5000 } } } } } } },
];

describe('validators compiled at build time (dist/validators)', () => {
  it('exist for the document and configuration schemas, and not for others', () => {
    assert.ok(built.precompiledValidator(documentSchema), 'the document schema was compiled');
    assert.ok(built.precompiledValidator(configSchema(PLUGINS)), 'the configuration schema');
    const other = Type.Object({ x: Type.String() });
    assert.equal(built.precompiledValidator(other), undefined, 'only for the schema compiled');
  });

  it('judge documents exactly as the schema compiled at run time does', () => {
    const fresh = newAjv().compile(documentSchema);
    const compiled = built.precompiledValidator(documentSchema) as ValidateFunction;
    let invalid = 0;
    for (const document of documents) {
      const expected = verdict(fresh, document);
      if (!expected.valid) invalid += 1;
      assert.deepEqual(verdict(compiled, document), expected, JSON.stringify(document));
    }
    assert.equal(invalid, documents.length - 1, 'every document but the first is invalid');
  });
});
