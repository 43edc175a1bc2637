import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DesiredState } from '../../../src/engine/desired/desired-state.js';
import {
  layerOf,
  mergeLayers,
  mergeSections,
  type Layer,
} from '../../../src/engine/desired/layers.js';
import { FakePlugin, fakeDocument, fakeEnginePlugin } from '../../helpers/fake-plugin.js';

const doc = (plugins: Record<string, unknown>) => ({ version: 1 as const, plugins });

describe('layered desired state (pure)', () => {
  const plugins = [fakeEnginePlugin(new FakePlugin('a')), fakeEnginePlugin(new FakePlugin('b'))];

  it('merges per resource: maps of resources per key, other fields from the higher layer', () => {
    assert.deepEqual(
      mergeSections(
        {
          packages: { nginx: { ensure: 'installed' }, curl: { ensure: 'installed' } },
          note: 'low',
        },
        { packages: { curl: { ensure: 'removed' } }, note: 'high' },
      ),
      { packages: { nginx: { ensure: 'installed' }, curl: { ensure: 'removed' } }, note: 'high' },
    );
    assert.deepEqual(mergeSections({ static: 'a', pretty: 'A' }, { static: 'b' }), {
      static: 'b',
      pretty: 'A',
    });
  });

  it('node over groups (later groups over earlier) over local; names each resource’s layer', () => {
    const layers: Layer[] = [
      { name: 'local', revision: 0, document: fakeDocument({ a: { x: 'local', y: 'local' } }) },
      {
        name: 'group:base',
        revision: 3,
        document: fakeDocument({ a: { x: 'base', z: 'base' }, b: { q: 'base' } }),
      },
      { name: 'group:web', revision: 5, document: fakeDocument({ a: { z: 'web' } }) },
      { name: 'node:n1', revision: 9, document: fakeDocument({ a: { x: 'node' } }) },
    ];
    assert.deepEqual(
      mergeLayers(plugins, layers),
      fakeDocument({ a: { x: 'node', y: 'local', z: 'web' }, b: { q: 'base' } }),
    );
    const source = (plugin: string, resource: string) => layerOf(plugins, layers, plugin, resource);
    assert.deepEqual(
      [source('a', 'x'), source('a', 'y'), source('a', 'z'), source('b', 'q')],
      ['node:n1', 'local', 'group:web', 'group:base'],
    );
  });

  it('uses a plugin’s own merge when it has one', () => {
    const custom = new FakePlugin('c');
    (custom as { merge?: unknown }).merge = (_low: unknown, high: unknown) => ({ merged: high });
    const merged = mergeLayers(
      [fakeEnginePlugin(custom)],
      [
        { name: 'local', revision: 0, document: doc({ c: { items: {} } }) },
        { name: 'node:n', revision: 1, document: doc({ c: { items: { k: 'v' } } }) },
      ],
    );
    assert.deepEqual(merged.plugins.c, { merged: { items: { k: 'v' } } });
  });

  it('orders layers by the configured groups, persists each change, refuses unknown layers', async () => {
    const saved: unknown[] = [];
    const state = new DesiredState(
      plugins,
      {
        save: () => Promise.resolve(),
        saveLayers: (layers) => {
          saved.push(layers.map((l) => l.name));
          return Promise.resolve();
        },
      },
      ['base', 'web'],
    );
    await state.setLayer('group:web', fakeDocument({ a: { x: 'web' } }), 5);
    await state.setLayer('group:base', fakeDocument({ a: { x: 'base' } }), 3);
    assert.deepEqual(
      state.layers().map((l) => l.name),
      ['local', 'group:base', 'group:web'],
    );
    assert.equal((state.effective.plugins.a as { items: Record<string, string> }).items.x, 'web');
    await assert.rejects(
      state.setLayer('group:db', fakeDocument({}), 1),
      /not a fleet layer of this node/,
    );
    await state.setLayer('group:web', undefined, 6);
    assert.equal((state.effective.plugins.a as { items: Record<string, string> }).items.x, 'base');
    assert.deepEqual(saved, [['group:web'], ['group:web', 'group:base'], ['group:base']]);
  });
});
