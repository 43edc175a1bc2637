import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import type { Page } from 'playwright-core';
import { FleetKeys } from '../../src/fleet/keys.js';
import { chromiumInstalled, startBrowser, waitForText, type Browser } from '../harness/browser.js';
import { cockpitInstalled, startCockpit, type Cockpit } from '../harness/cockpit.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd.js';
import { startHostService } from '../harness/host-services.js';
import { startStack, type Stack } from '../harness/stack.js';
import { openPage, screenshot, setDocument, tableRows } from '../helpers/cockpit-page.js';
import { freshPrefix, rootClient } from '../helpers/fleet.js';

// The Fleet tab in a real browser against a real daemon that is a node of a fleet
// on a real three-member etcd cluster: the daemon gets a configuration file with a
// `fleet` section, documents are published with etcd's root user (as a publisher
// would), and every check reads what a person sees on the page, compared with what
// the daemon itself answers over D-Bus.
const missing = !cockpitInstalled()
  ? 'cockpit-ws and cockpit-bridge are not installed'
  : !chromiumInstalled()
    ? 'chromium is not installed'
    : false;

const NODE = 'n1';
const doc = (hostname: Record<string, string>) =>
  JSON.stringify({ version: 1, plugins: { hostname } });

interface DaemonLayers {
  layers: { name: string; revision: number }[];
}

describe('the Fleet tab of the Cockpit page on a real fleet node', { skip: missing }, () => {
  let cluster: EtcdCluster;
  let etcd: Etcd3;
  let stack: Stack;
  let cockpit: Cockpit;
  let browser: Browser;
  let page: Page | undefined;

  before(async () => {
    cluster = await startEtcdCluster();
    etcd = rootClient(cluster);
    stack = await startStack({
      backend: 'none',
      services: async (bus) => ({ stoppables: [await startHostService(bus, 'hostnamed')] }),
    });
    cockpit = await startCockpit(stack.bus);
    browser = await startBrowser();
  });
  after(async () => {
    await page?.close();
    await browser?.stop();
    await cockpit?.stop();
    await stack?.stop();
    etcd?.close();
    await cluster?.stop();
  });

  /** The daemon restarted with a fresh state folder, as a plain daemon or as a node. */
  async function restartDaemon(fleet?: { prefix: string }): Promise<void> {
    const state = await mkdtemp(join(stack.bus.dir, 'state-'));
    const args = ['--state-dir', state];
    if (fleet) {
      const config = join(state, 'fleet.json');
      const settings = {
        endpoints: cluster.endpoints,
        prefix: fleet.prefix,
        nodeId: NODE,
        groups: ['web'],
        leaseTtlSeconds: 2,
        reconnectMinMs: 100,
        reconnectMaxMs: 1000,
        requestTimeoutMs: 2000,
      };
      await writeFile(config, JSON.stringify({ fleet: settings }));
      args.push('--config', config);
    }
    await stack.restartDaemon(args);
  }
  async function freshPage(): Promise<Page> {
    await page?.close();
    page = await openPage(browser, cockpit.pageUrl);
    return page;
  }
  const publish = async (key: string, text: string): Promise<number> => {
    await etcd.put(key).value(text);
    return Number((await etcd.get(key).exec()).kvs[0]?.mod_revision);
  };
  const daemonLayers = async () =>
    (JSON.parse(await stack.client.desiredLayers()) as DaemonLayers).layers.map((l) => [
      l.name,
      l.name === 'local' ? 'set by Apply' : String(l.revision),
    ]);
  const fleetCondition = async () =>
    (
      JSON.parse(String(await stack.client.managerProperty('Conditions'))) as Record<
        string,
        { status: string; reason: string }
      >
    ).FleetConnected;
  /** The layers table as [layer, revision] and each layer's resources cell. */
  const shownLayers = async (p: Page) =>
    (await tableRows(p, '#fleet-layers')).map((row) => row.slice(0, 2));
  const resourcesOf = async (p: Page, layer: string) =>
    p.locator(`#fleet-layers tr:has(td:first-child:text-is("${layer}")) td`).nth(2).innerText();

  it('is hidden on a daemon without a fleet, and appears when it restarts as a fleet node', async () => {
    await restartDaemon();
    const p = await freshPage();
    await p.waitForSelector('body[data-fleet="none"]');
    assert.match(String(await p.getAttribute('body', 'data-features')), /\bfleet\b/);
    assert.equal(await p.locator('#page-tabs').isVisible(), false, 'no tab bar');
    assert.equal(await p.locator('#tab-fleet').isVisible(), false);
    assert.equal(await p.locator('#fleet').isVisible(), false);
    assert.equal(await p.locator('#editor-layer-note').isVisible(), false);
    assert.equal(await p.locator('#overview').isVisible(), true);
    assert.equal(await fleetCondition(), undefined);

    // Same page, the daemon restarted as a node: the tab appears without a reload.
    await restartDaemon({ prefix: freshPrefix() });
    await p.waitForSelector('body[data-fleet="node"]');
    assert.equal(await p.locator('#tab-fleet').isVisible(), true);
    assert.equal(await p.locator('#editor-layer-note').isVisible(), true);
  });

  it("shows the node's layers, their revisions and resources as they are published, and Plan's Layer column", async () => {
    const keys = new FleetKeys(freshPrefix());
    await restartDaemon({ prefix: keys.prefix });
    const p = await freshPage();
    await p.click('#tab-fleet');
    assert.equal(await p.locator('#overview').isVisible(), false);
    await waitForText(p, '#fleet-connected', /^True \(connected\)$/);
    assert.equal(await waitForText(p, '#fleet-reason', /\S/), 'Watching');
    assert.deepEqual(await shownLayers(p), [['local', 'set by Apply']]);

    // Published while the page is open: the node takes it, DesiredGeneration moves,
    // the page reads GetDesiredLayers again.
    const group = await publish(keys.groupDesired('web'), doc({ pretty: 'Fleet web' }));
    await waitForText(p, '#fleet-layers', new RegExp(`group:web\\s+${group}`));
    assert.deepEqual(await shownLayers(p), await daemonLayers());
    assert.equal(await resourcesOf(p, 'group:web'), 'hostname: pretty');

    const own = await publish(keys.nodeDesired(NODE), doc({ pretty: 'Node one' }));
    await waitForText(p, '#fleet-layers', new RegExp(`node:${NODE}\\s+${own}`));
    assert.deepEqual(await shownLayers(p), [
      ['local', 'set by Apply'],
      ['group:web', String(group)],
      [`node:${NODE}`, String(own)],
    ]);
    assert.deepEqual(await shownLayers(p), await daemonLayers());
    assert.equal(
      await resourcesOf(p, 'group:web'),
      `hostname: pretty (overridden by node:${NODE})`,
    );
    assert.equal(await resourcesOf(p, `node:${NODE}`), 'hostname: pretty');
    assert.match(await p.innerText('#fleet-wide-note'), /op-dbus fleet status/);
    await screenshot(p, 'fleet');

    // The overview's editor holds the local layer, which Apply would replace, not the
    // effective document with the fleet's layers in it.
    await p.click('#tab-overview');
    assert.equal(await p.locator('#fleet').isVisible(), false);
    await p.waitForFunction(() => {
      const page = globalThis as unknown as {
        document: { querySelector(s: string): { value: string } };
      };
      return page.document.querySelector('#document').value.includes('"plugins"');
    });
    assert.deepEqual(JSON.parse(await p.inputValue('#document')), { version: 1, plugins: {} });
    assert.match(await stack.client.desiredState(), /Node one/);

    const edited = { version: 1, plugins: { hostname: { static: 'local-name' } } };
    await setDocument(p, edited);
    await p.click('#plan-button');
    await waitForText(p, '#editor-message', /Plan ready/);
    assert.deepEqual(await p.locator('#plan thead th').allInnerTexts(), [
      'Plugin',
      'Resource',
      'Layer',
      'Action',
      'From → to',
    ]);
    const expected = JSON.parse(await stack.client.plan(JSON.stringify(edited))) as {
      plugin: string;
      resource: string;
      layer: string;
    }[];
    assert.deepEqual(
      (await tableRows(p, '#plan')).map((row) => row.slice(0, 3)),
      expected.map((row) => [row.plugin, row.resource, row.layer]),
    );
    assert.deepEqual(expected.map((row) => [row.resource, row.layer]).sort(), [
      ['pretty', `node:${NODE}`],
      ['static', 'local'],
    ]);
  });

  it('shows the node disconnected when the etcd cluster dies, still holding its layers, and connected when it returns', async () => {
    const keys = new FleetKeys(freshPrefix());
    const group = await publish(keys.groupDesired('web'), doc({ pretty: 'Before the outage' }));
    await restartDaemon({ prefix: keys.prefix });
    const p = await freshPage();
    await p.click('#tab-fleet');
    await waitForText(p, '#fleet-connected', /^True \(connected\)$/);
    await waitForText(p, '#fleet-layers', new RegExp(`group:web\\s+${group}`));

    await cluster.killAll();
    try {
      await waitForText(p, '#fleet-connected', /^False \(disconnected\)$/);
      const condition = await fleetCondition();
      assert.equal(condition?.status, 'False');
      assert.equal(await p.innerText('#fleet-reason'), condition?.reason);
      assert.equal(condition?.reason, 'Disconnected');
      assert.match(await p.innerText('#fleet-connection-text'), /keeps serving and converging/);
      // The layers it holds are still shown: they are what it converges on.
      assert.deepEqual(await shownLayers(p), [
        ['local', 'set by Apply'],
        ['group:web', String(group)],
      ]);
      await screenshot(p, 'fleet-disconnected');
    } finally {
      await cluster.restartAll();
    }
    await waitForText(p, '#fleet-connected', /^True \(connected\)$/, 45_000);
    assert.equal((await fleetCondition())?.status, 'True');
  });
});
