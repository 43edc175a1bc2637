import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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
import {
  cliFleetStatus,
  eventually,
  expectedNodes,
  shownNodes,
  writeCliWrapper,
} from '../helpers/cockpit-fleet.js';
import { openPage, screenshot, setDocument, tableRows } from '../helpers/cockpit-page.js';
import { freshPrefix, rootClient } from '../helpers/fleet.js';

// The Fleet tab in a real browser against a real daemon that is a node of a fleet
// on a real three-member etcd cluster: the daemon gets a configuration file with a
// `fleet` section, documents are published with etcd's root user (as a publisher
// would), and every check reads what a person sees on the page, compared with what
// the daemon itself answers over D-Bus, or the CLI itself prints. The page runs
// `op-dbus fleet status --json` and `op-dbus fleet watch` through cockpit-bridge:
// an `op-dbus` first on cockpit-ws's PATH stands in for install.sh's /usr/bin/op-dbus
// and passes `--config` with the daemon's own configuration file (as the installed
// CLI reads /etc/op-dbus/op-dbus.json, the daemon's).
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
  let scratch: string;
  /** The configuration file the daemon and the page's CLI both read. */
  let config: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'opdbus-cockpit-fleet-'));
    config = join(scratch, 'op-dbus.json');
    await writeCliWrapper(scratch, config);
    cluster = await startEtcdCluster();
    etcd = rootClient(cluster);
    stack = await startStack({
      backend: 'none',
      services: async (bus) => ({ stoppables: [await startHostService(bus, 'hostnamed')] }),
    });
    cockpit = await startCockpit(stack.bus, 'root', { binDir: scratch });
    browser = await startBrowser();
  });
  after(async () => {
    await page?.close();
    await browser?.stop();
    await cockpit?.stop();
    await stack?.stop();
    etcd?.close();
    await cluster?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  /** The daemon restarted with a fresh state folder, as a plain daemon or as a node. */
  async function restartDaemon(fleet?: { prefix: string }): Promise<void> {
    const state = await mkdtemp(join(stack.bus.dir, 'state-'));
    await writeFile(config, '{}');
    if (fleet) {
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
    }
    await stack.restartDaemon(['--state-dir', state, '--config', config]);
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
    (await tableRows(p, '#fleet-layers')).find((row) => row[0] === layer)?.[2];
  const cliStatus = () => cliFleetStatus(config);

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
    await eventually(p, () => shownLayers(p), await daemonLayers());
    assert.equal(await resourcesOf(p, 'group:web'), 'hostname: pretty');

    const own = await publish(keys.nodeDesired(NODE), doc({ pretty: 'Node one' }));
    await waitForText(p, '#fleet-layers', new RegExp(`node:${NODE}\\s+${own}`));
    await eventually(p, () => shownLayers(p), [
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

    // Fleet-wide: the page follows the fleet through `op-dbus fleet watch`, no click.
    await waitForText(p, '#fleet-wide-nodes', new RegExp(`node:${NODE} ${own}/${own} done`));
    // Another node's report, as a node that died 2 minutes ago behind on group:web left it.
    const stale = {
      node: 'n2',
      time: new Date(Date.now() - 120_000).toISOString(),
      generation: 3,
      layers: { 'group:web': { revision: group - 1, published: group - 1, outcome: 'done' } },
      conditions: {},
      lastResult: null,
      ledgerHead: '',
    };
    await etcd.put(keys.nodeReport('n2')).value(JSON.stringify(stale));
    await waitForText(p, '#fleet-wide-nodes', /n2\s+DEAD/);
    await eventually(p, () => shownNodes(p), expectedNodes(await cliStatus()));
    assert.equal(await p.locator('#fleet-wide-nodes table').isVisible(), true);
    assert.equal(await p.locator('#fleet-wide-error').isVisible(), false);
    const shown = await shownNodes(p);
    assert.deepEqual(
      shown.map((row) => row.slice(0, 2)),
      [
        [NODE, 'alive'],
        ['n2', 'DEAD'],
      ],
    );
    assert.match(String(shown[1]?.[5]), /dead \(no alive key\)/);
    const lag = (await tableRows(p, '#fleet-wide-nodes')).map((row) => row[5]);
    assert.match(String(lag[0]), /^in step · report \d+ s old$/);
    assert.match(
      String(lag[1]),
      new RegExp(`^group:web at ${group - 1}, published ${group} · report 1[2-9]\\d s old$`),
    );
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
      // The fleet-wide status cannot be read either: the CLI's own words, no stale rows.
      await waitForText(
        p,
        '#fleet-wide-error',
        /^op-dbus fleet status failed \(exit status 2\): op-dbus: \S/,
      );
      assert.equal(await p.locator('#fleet-wide-error').isVisible(), true);
      assert.equal(await p.locator('#fleet-wide-nodes tr').count(), 0);
      await screenshot(p, 'fleet-disconnected');
    } finally {
      await cluster.restartAll();
    }
    await waitForText(p, '#fleet-connected', /^True \(connected\)$/, 45_000);
    assert.equal((await fleetCondition())?.status, 'True');
    await waitForText(
      p,
      '#fleet-wide-nodes',
      new RegExp(`${NODE}\\s+alive\\s+group:web ${group}/${group} done`),
    );
    assert.equal(await p.locator('#fleet-wide-error').isVisible(), false);
  });

  it('says plainly why when the CLI cannot read the fleet, and reads it again on Refresh', async () => {
    const keys = new FleetKeys(freshPrefix());
    const group = await publish(keys.groupDesired('web'), doc({ pretty: 'Readable' }));
    await restartDaemon({ prefix: keys.prefix });
    const p = await freshPage();
    await p.click('#tab-fleet');
    await waitForText(p, '#fleet-wide-nodes', new RegExp(`group:web ${group}/${group} done`));
    assert.equal(await p.locator('#fleet-wide-error').isVisible(), false);

    // The configuration file without its fleet section (the daemon read it at start).
    const settings = await readFile(config, 'utf8');
    await writeFile(config, '{}');
    await p.click('#fleet-wide-refresh');
    await waitForText(p, '#fleet-wide-error', /no etcd endpoints/);
    assert.equal(
      await p.innerText('#fleet-wide-error'),
      'op-dbus fleet status failed (exit status 2): op-dbus: no etcd endpoints: give --endpoints or a "fleet" section in the configuration',
    );
    assert.equal(await p.locator('#fleet-wide-error').isVisible(), true);
    assert.equal(await p.locator('#fleet-wide-nodes tr').count(), 0);
    await screenshot(p, 'fleet-cli-failed');

    await writeFile(config, settings);
    await p.click('#fleet-wide-refresh');
    await waitForText(p, '#fleet-wide-nodes', new RegExp(`${NODE}\\s+alive`));
    assert.equal(await p.locator('#fleet-wide-error').isVisible(), false);
  });
});
