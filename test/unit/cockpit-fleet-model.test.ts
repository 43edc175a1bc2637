import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { DesiredState } from '../../src/engine/desired/desired-state.js';
import { layerOf, namedResources } from '../../src/engine/desired/layers.js';
import type { EnginePlugin } from '../../src/engine/plugin.js';
import type { DesiredDocument } from '../../src/document/document.js';
import { LocalePlugin } from '../../src/plugins/locale/plugin.js';
import { NetworkPlugin } from '../../src/plugins/network/plugin.js';
import { OpenvswitchPlugin } from '../../src/plugins/openvswitch/plugin.js';
import { PackageKitPlugin } from '../../src/plugins/packagekit/plugin.js';
import { ScalarSettingsPlugin } from '../../src/plugins/shared/scalar-settings-plugin.js';
import { SystemdPlugin } from '../../src/plugins/systemd/plugin.js';

// The fleet tab's pure functions (cockpit/op-dbus/js/fleet-model.js), checked
// against the daemon's own: what GetDesiredLayers sends, and which resources each
// layer names and which layer wins each (src/engine/desired/layers.ts and each
// plugin's `resources()`), so that the tab and Plan's Layer column agree.
interface Condition {
  type: string;
  status: string;
  reason: string;
}
interface Contribution {
  name: string;
  kind: string;
  revision?: number;
  plugins: { plugin: string; resources: { resource: string; overriddenBy?: string }[] }[];
}
interface FleetModel {
  parseLayers(text: string): { name: string; revision?: number; document: DesiredDocument }[];
  fleetConnection(conditions: string): Condition | undefined;
  isFleetNode(layers: { name: string }[], conditions: string): boolean;
  sectionResources(plugin: string, section: unknown): string[];
  layerContributions(
    layers: { name: string; revision?: number; document: unknown }[],
  ): Contribution[];
  revisionText(layer: { kind: string; revision?: number }): string;
}

const MODEL_URL = new URL('../../cockpit/op-dbus/js/fleet-model.js', import.meta.url).href;
const model = (await import(MODEL_URL)) as FleetModel;

/**
 * The real plugins' own `resources()` (pure methods, read from their prototypes
 * without a bus): what the daemon's layerOf uses.
 */
const prototypeOf = (plugin: { prototype: unknown }) =>
  Object.create(plugin.prototype as object) as EnginePlugin['instance'];
const ENGINE_PLUGINS = [
  ['packagekit', prototypeOf(PackageKitPlugin)],
  ['network', prototypeOf(NetworkPlugin)],
  ['systemd', prototypeOf(SystemdPlugin)],
  ['openvswitch', prototypeOf(OpenvswitchPlugin)],
  ['hostname', prototypeOf(ScalarSettingsPlugin)],
  ['timedate', prototypeOf(ScalarSettingsPlugin)],
  ['locale', prototypeOf(LocalePlugin)],
].map(([name, instance]) => ({ name, instance }) as unknown as EnginePlugin);

const daemonResources = (plugin: string, section: unknown): string[] => {
  const instance = ENGINE_PLUGINS.find((p) => p.name === plugin)?.instance;
  return instance?.resources?.(section) ?? [...namedResources(section)];
};

const doc = (plugins: Record<string, unknown>): DesiredDocument => ({ version: 1, plugins });

/** Every example document, and sections that exercise each plugin's own rule. */
async function sections(): Promise<[string, unknown][]> {
  const all: [string, unknown][] = [];
  for (const name of ['full', 'packages', 'proxmox-ve', 'sandbox-dummy', 'dummy-backend']) {
    const text = await readFile(
      new URL(`../../docs/examples/${name}.json`, import.meta.url),
      'utf8',
    );
    const parsed = JSON.parse(text) as { plugins: Record<string, unknown> };
    all.push(...Object.entries(parsed.plugins));
  }
  all.push(
    ['packagekit', { packages: { nginx: {} }, repositories: { extras: {} } }],
    [
      'network',
      {
        interfaces: [{ name: 'br0', type: 'linux-bridge' }, { name: 'veth0' }],
        routes: {
          config: [
            { destination: '10.1.0.0/16', 'next-hop-interface': 'br0' },
            {
              destination: '0.0.0.0/0',
              'next-hop-address': '192.0.2.1',
              'next-hop-interface': 'br0',
              metric: 100,
              'table-id': 254,
            },
          ],
        },
        'dns-resolver': { config: { server: ['192.0.2.53'], search: ['example.org'] } },
      },
    ],
    ['openvswitch', { bridges: { ovsbr0: { ports: { p1: {} } } } }],
  );
  return all;
}

describe('the fleet tab model', () => {
  it("names each section's resources exactly as the daemon's plugins do", async () => {
    const all = await sections();
    assert.ok(new Set(all.map(([plugin]) => plugin)).size >= 6, 'most plugins are covered');
    for (const [plugin, section] of all)
      assert.deepEqual(
        model.sectionResources(plugin, section).sort(),
        daemonResources(plugin, section).sort(),
        `${plugin}: ${JSON.stringify(section)}`,
      );
  });

  it("reads the daemon's GetDesiredLayers and attributes every resource to the layer the daemon does", async () => {
    const state = new DesiredState(
      ENGINE_PLUGINS,
      { save: () => Promise.resolve(), saveLayers: () => Promise.resolve() },
      ['base', 'web'],
    );
    await state.setLocal(
      doc({
        hostname: { static: 'local', pretty: 'Local' },
        packagekit: { packages: { vim: {} } },
      }),
    );
    await state.setLayer(
      'group:base',
      doc({
        packagekit: { packages: { vim: {}, curl: {} }, repositories: { extras: {} } },
        systemd: { units: { 'a.service': { active_state: 'active' } } },
      }),
      12,
    );
    await state.setLayer('group:web', doc({ packagekit: { packages: { curl: {} } } }), 15);
    await state.setLayer('node:n1', doc({ hostname: { pretty: 'Node one' } }), 17);
    // What the service sends (src/dbus/state-manager-service.ts).
    const layers = model.parseLayers(JSON.stringify({ layers: state.layers() }));
    assert.deepEqual(
      layers.map((l) => [l.name, l.revision]),
      [
        ['local', 0],
        ['group:base', 12],
        ['group:web', 15],
        ['node:n1', 17],
      ],
    );
    const contributions = model.layerContributions(layers);
    const winners: [string, string, string][] = [];
    const daemonWinners: [string, string, string][] = [];
    for (const layer of contributions)
      for (const { plugin, resources } of layer.plugins)
        for (const { resource, overriddenBy } of resources) {
          winners.push([plugin, resource, overriddenBy ?? layer.name]);
          const daemon = layerOf(ENGINE_PLUGINS, state.layers(), plugin, resource);
          daemonWinners.push([plugin, resource, daemon ?? '(none)']);
        }
    assert.deepEqual(winners, daemonWinners);
    assert.deepEqual(
      contributions.map((c) => [c.name, c.kind, model.revisionText(c)]),
      [
        ['local', 'local', 'set by Apply'],
        ['group:base', 'group', '12'],
        ['group:web', 'group', '15'],
        ['node:n1', 'node', '17'],
      ],
    );
    // Spelled out once, as the tab shows it.
    assert.deepEqual(contributions[0]?.plugins, [
      {
        plugin: 'hostname',
        resources: [
          { resource: 'static', overriddenBy: undefined },
          { resource: 'pretty', overriddenBy: 'node:n1' },
        ],
      },
      { plugin: 'packagekit', resources: [{ resource: 'vim', overriddenBy: 'group:base' }] },
    ]);
  });

  it('tells a fleet node from a plain daemon by FleetConnected or a fleet layer', () => {
    const connected = JSON.stringify({
      Ready: { status: 'True', reason: 'Serving' },
      FleetConnected: { status: 'False', reason: 'Disconnected', message: 'etcd away' },
    });
    const plain = JSON.stringify({ Ready: { status: 'True', reason: 'Serving' } });
    const local = [{ name: 'local' }];
    assert.equal(model.isFleetNode(local, plain), false);
    assert.equal(model.isFleetNode(local, connected), true);
    assert.equal(model.isFleetNode([...local, { name: 'group:web' }], plain), true);
    assert.equal(model.fleetConnection(connected)?.reason, 'Disconnected');
    assert.equal(model.fleetConnection(plain), undefined);
  });

  it('drops malformed layers and never throws on what the bus sends', () => {
    for (const text of ['', 'nonsense', 'null', '[]', '{"layers": 5}'])
      assert.deepEqual(model.parseLayers(text), [], text);
    const layers = model.parseLayers(
      JSON.stringify({
        layers: [
          { name: 'local', revision: 0, document: { version: 1, plugins: {} } },
          { revision: 3 },
          'x',
          { name: 'group:web', revision: 'seven', document: 'not a document' },
        ],
      }),
    );
    assert.deepEqual(
      layers.map((l) => [l.name, l.revision, l.document]),
      [
        ['local', 0, { version: 1, plugins: {} }],
        ['group:web', undefined, { version: 1, plugins: {} }],
      ],
    );
    assert.deepEqual(
      model.layerContributions([{ name: 'node:x', document: { plugins: { hostname: 'oops' } } }])[0]
        ?.plugins,
      [{ plugin: 'hostname', resources: [] }],
    );
  });
});
