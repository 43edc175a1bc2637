import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BusPool } from '../../../src/daemon/bus-pool.js';
import { configSchema, mergeConfig } from '../../../src/daemon/config.js';
import { createPlugins } from '../../../src/daemon/plugins.js';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { publishedSchemas } from '../../../src/document/published-schemas.js';
import { DocumentValidator, SchemaChecker } from '../../../src/document/validator.js';
import { StateManager } from '../../../src/engine/state-manager.js';
import { checkNames, PLUGINS } from '../../../src/plugins/registry.js';
import { motdPlugin } from '../../fixtures/plugins/motd/index.js';
import { finished, ROOT } from '../../helpers/fake-engine.js';
import { silentLog } from '../../helpers/plugin-host.js';

/**
 * A new plugin is its folder plus one entry in the registry's list. Here the
 * fixture folder test/fixtures/plugins/motd is added to the real registry's
 * list, and everything the daemon does with plugins works for it unchanged:
 * the document schema, the published schemas, the configuration file and
 * flags, creation with its settings, and the engine.
 */
describe('a new plugin is one folder and one registry line', () => {
  const registry = checkNames([...PLUGINS, motdPlugin]);

  it('its section is part of the document schema and the published schemas', () => {
    const validator = new DocumentValidator(buildDocumentSchema(registry));
    validator.parse(JSON.stringify({ version: 1, plugins: { motd: { text: 'hi' } } }));
    assert.throws(
      () => validator.parse(JSON.stringify({ version: 1, plugins: { motd: { txt: 'hi' } } })),
      /\/plugins\/motd: unknown field 'txt'/,
    );
    assert.ok(publishedSchemas(registry).has('motd.schema.json'));
  });

  it('its settings are read from the configuration file and flags, checked by its own schema', () => {
    const checker = new SchemaChecker(configSchema(registry));
    assert.deepEqual(checker.problems({ plugins: { motd: { path: '/tmp/x' } } }), []);
    assert.notDeepEqual(checker.problems({ plugins: { motd: { path: 5 } } }), []);
    const config = mergeConfig(
      registry,
      { plugins: { motd: { path: '/from/file' } } },
      {
        plugins: { motd: { path: '/from/flag' } },
      },
    );
    assert.deepEqual(config.plugins.motd, { path: '/from/flag' });
    assert.deepEqual(mergeConfig(registry, {}, {}).plugins.motd, { path: '/etc/motd' });
  });

  it('the daemon makes it with its settings and the engine applies, verifies and queries it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opdbus-motd-'));
    const path = join(dir, 'motd');
    const buses = new BusPool(silentLog, () => undefined);
    const plugins = createPlugins(
      [motdPlugin],
      { motd: { path } },
      { log: silentLog, buses, stateDir: dir },
    );
    const engine = new StateManager({
      plugins,
      validator: new DocumentValidator(buildDocumentSchema([motdPlugin])),
      store: { save: () => Promise.resolve() },
      log: silentLog,
      jobRetentionMs: 60_000,
      maxRetainedJobs: 10,
    });
    const text = JSON.stringify({ version: 1, plugins: { motd: { text: 'welcome' } } });
    const job = await finished(engine, await engine.apply(text, ROOT));
    assert.equal(job.state, 'done', JSON.stringify(job.result));
    assert.equal(await readFile(path, 'utf8'), 'welcome');
    assert.deepEqual(
      (await engine.plan(text)).map((row) => row.action),
      ['none'],
    );
    assert.deepEqual((await engine.query(['motd'])).document.plugins, {
      motd: { text: 'welcome' },
    });
  });
});
