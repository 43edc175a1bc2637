import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { applyAndWait } from '../../src/cli/client.js';
import { waitForText } from '../harness/browser.js';
import { startCockpit } from '../harness/cockpit.js';
import type { Stack } from '../harness/stack.js';
import type { SystemdUser } from '../harness/systemd-user.js';
import { jobIdOf } from '../helpers/bus-client.js';
import { openPage, screenshot, setDocument, tableRows } from '../helpers/cockpit-page.js';
import {
  browserTestsMissing,
  startCockpitStack,
  type CockpitStack,
} from '../helpers/cockpit-stack.js';

// The op-dbus page served by the real cockpit-ws, driven in Debian's chromium,
// against the real daemon with a systemd user manager, hostnamed and PackageKit's
// dummy backend. Every check reads what a person would see on the page.
const INSTALL = '[Install]\nWantedBy=default.target\n';
const DEMO = 'opdbus-demo.service';
/** Takes 3 s to start, so a job that starts it is seen running. */
const SLOW = 'opdbus-slow.service';
const UNITS = {
  [DEMO]: `[Service]\nExecStart=/bin/sleep infinity\n${INSTALL}`,
  [SLOW]: `[Service]\nExecStartPre=/bin/sleep 3\nExecStart=/bin/sleep infinity\n${INSTALL}`,
};

function documentWith(extra: { units?: object; hostname?: object } = {}): object {
  return {
    version: 1,
    plugins: {
      packagekit: { packages: { glib2: { ensure: 'installed' } } },
      systemd: { units: { [DEMO]: { active_state: 'active', enabled: true }, ...extra.units } },
      hostname: { pretty: 'Base', ...extra.hostname },
    },
  };
}
const BASE = documentWith();

describe('the Cockpit page in a real browser', { skip: browserTestsMissing }, () => {
  let all: CockpitStack;
  let stack: Stack;
  let systemd: SystemdUser;
  let page: Page | undefined;

  before(async () => {
    all = await startCockpitStack(UNITS);
    ({ stack, systemd } = all);
  });
  after(async () => {
    await all?.stop();
  });

  /** Each test starts from the same desired state, set by another client, and its own tab. */
  async function fromBase(url = all.cockpit.pageUrl): Promise<{ job: number; page: Page }> {
    const outcome = await applyAndWait(stack.client, JSON.stringify(BASE), () => undefined);
    assert.equal(outcome.state, 'done', outcome.result);
    await page?.close();
    page = await openPage(all.browser, url);
    return { job: jobIdOf(outcome.jobPath), page };
  }
  const property = async (name: string): Promise<string> =>
    String(await stack.client.managerProperty(name));
  const isActive = async (unit: string): Promise<string> =>
    (
      await systemd
        .systemctl('is-active', unit)
        .catch((err: { stdout?: string }) => err.stdout ?? '')
    )
      .toString()
      .trim();

  it('shows the daemon status and conditions, and follows changes made elsewhere', async () => {
    const { page } = await fromBase();
    await waitForText(page, '#status-value', /^idle$/);
    assert.equal(await property('Status'), 'idle');
    await waitForText(page, 'tr.condition-Ready', /True\s*Serving/);
    await waitForText(page, 'tr.condition-Degraded', /False\s*LastJobSucceeded/);
    assert.equal(await page.locator('#conditions tbody tr').count(), 4);
    // The daemon has confirm/rollback (ApplyConfirmed): Apply offers a confirm timeout;
    // it has GetDesiredLayers, so the fleet feature is mounted (its tab hidden: no fleet).
    assert.equal(await page.getAttribute('body', 'data-features'), 'checkpoint fleet');
    assert.equal(await page.locator('#confirm-enabled').count(), 1);
    assert.deepEqual(
      JSON.parse(await page.inputValue('#document')),
      JSON.parse(await stack.client.desiredState()),
      'the editor is prefilled with GetDesiredState',
    );

    // Another client applies: the page follows from PropertiesChanged alone.
    const elsewhere = documentWith({ hostname: { pretty: 'Changed elsewhere' } });
    await applyAndWait(stack.client, JSON.stringify(elsewhere), () => undefined);
    const generation = await property('DesiredGeneration');
    await waitForText(page, '#desired-generation', new RegExp(`^${generation}$`));
    await waitForText(page, '#applied-generation', new RegExp(`^${generation}$`));
    assert.match(await page.inputValue('#document'), /Changed elsewhere/);
  });

  it('Plan of an edited document shows one row per resource, changing nothing', async () => {
    const { page } = await fromBase();
    const edited = documentWith({ hostname: { static: 'cockpit-plan' } });
    await setDocument(page, edited);
    const generation = await property('DesiredGeneration');
    await page.click('#plan-button');
    await waitForText(page, '#editor-message', /Plan ready/);
    const rows = await tableRows(page, '#plan');
    const expected = JSON.parse(await stack.client.plan(JSON.stringify(edited))) as {
      plugin: string;
      resource: string;
      action: string;
      from: unknown;
    }[];
    assert.deepEqual(
      rows.map((row) => row.slice(0, 3)),
      expected.map((row) => [row.plugin, row.resource, row.action]),
    );
    const hostnameNow = expected.find((row) => row.resource === 'static')?.from;
    assert.deepEqual(
      rows.find((row) => row[1] === 'static'),
      [
        'hostname',
        'static',
        'set',
        `${typeof hostnameNow === 'string' ? hostnameNow : '—'} → cockpit-plan`,
      ],
    );
    assert.deepEqual(rows.find((row) => row[1] === 'glib2')?.slice(0, 3), [
      'packagekit',
      'glib2',
      'none',
    ]);
    assert.equal(await property('DesiredGeneration'), generation, 'Plan changed nothing');
  });

  it('Apply shows the running job with a bar per resource and ends with its result', async () => {
    const { page } = await fromBase();
    await systemd.systemctl('stop', SLOW);
    await setDocument(
      page,
      documentWith({
        units: { [SLOW]: { active_state: 'active' } },
        hostname: { pretty: 'Applied from Cockpit' },
      }),
    );
    await page.click('#apply-button');
    // While the unit takes its 3 s to start, the page shows the job running.
    await page.waitForSelector(`.job-panel[data-state="running"] li[data-key="systemd/${SLOW}"]`);
    await waitForText(page, `li[data-key="systemd/${SLOW}"] .progress-phase`, /starting/);
    const end = await waitForText(page, '#editor-message', /\(apply\)\s*done/);
    assert.match(end, /2 changed, 2 unchanged, 0 failed/);
    assert.equal(await page.getAttribute('#editor-message', 'data-kind'), 'success');
    for (const key of ['packagekit', 'systemd', 'hostname', 'hostname/pretty'])
      assert.equal(await page.locator(`#running-job li[data-key="${key}"]`).count(), 1, key);
    assert.equal(await isActive(SLOW), 'active');
    await waitForText(page, '#status-value', /^idle$/);
    await screenshot(page, 'apply');
  });

  it('an invalid document shows each problem with its JSON path, and nothing changes', async () => {
    const { page } = await fromBase();
    const generation = await property('DesiredGeneration');
    await setDocument(page, {
      version: 1,
      plugins: { packagekit: { packages: { 'a;b': { ensure: 'installed' } } } },
    });
    for (const button of ['#plan-button', '#apply-button']) {
      await page.click(button);
      await waitForText(page, '#problems', /a;b/);
      assert.equal(await page.getAttribute('#editor-message', 'data-kind'), 'invalid');
      assert.match(
        await page.locator('#problems li[data-path="/plugins/packagekit/packages"]').innerText(),
        /\/plugins\/packagekit\/packages\s+'a;b' is not a valid name/,
      );
    }
    assert.equal(await property('DesiredGeneration'), generation);
    await screenshot(page, 'invalid');
  });

  it("a unit stopped behind the daemon's back appears in the drift feed and is corrected", async () => {
    const { page } = await fromBase();
    await systemd.systemctl('stop', DEMO);
    const drift = await waitForText(
      page,
      `#drift-feed li.drift[data-resource="systemd/${DEMO}"]`,
      /active_state: inactive → active/,
    );
    assert.match(drift, /drift systemd\/opdbus-demo\.service/);
    await waitForText(page, '#drift-feed li.drift-job', /correction job \d+\s*done\s*1 changed/);
    assert.equal(await isActive(DEMO), 'active');
    const count = await property('DriftCount');
    assert.notEqual(count, '0');
    await waitForText(page, '#drift-count', new RegExp(`^${count}$`));
    await screenshot(page, 'drift');
  });

  it('shows the audit ledger and whether its hash chain verifies', async () => {
    const { job, page } = await fromBase();
    await waitForText(
      page,
      '#history tbody tr:first-child',
      new RegExp(`^\\d+\\s+\\S+ \\S+\\s+${job} \\(apply\\)\\s+done`),
    );
    await page.click('#verify-button');
    await waitForText(page, '#verify-result', /hash chain of all \d+ records verifies/);

    // Someone edits the ledger file: the page must say so, then verify again once restored.
    const ledger = join(stack.bus.dir, 'state', 'ledger.jsonl');
    const original = await readFile(ledger, 'utf8');
    await writeFile(ledger, original.replace('"state":"done"', '"state":"failed"'));
    try {
      await page.click('#verify-button');
      await waitForText(page, '#verify-result', /breaks at line 1: .*edited/);
    } finally {
      await writeFile(ledger, original);
    }
    await page.click('#verify-button');
    await waitForText(page, '#verify-result', /verifies/);
  });

  it('a session without admin rights reads everything and gets AccessDenied as a message', async () => {
    // cockpit-ws runs its bridge as whoever runs cockpit-ws: as `nobody` the page
    // talks D-Bus as uid 65534, a user polkit does not authorize.
    const asNobody = await startCockpit(stack.bus, 'nobody');
    try {
      const { page } = await fromBase(asNobody.pageUrl);
      await waitForText(page, '#status-value', /^idle$/);
      await waitForText(page, 'tr.condition-Ready', /True/);
      const generation = await property('DesiredGeneration');
      await setDocument(page, documentWith({ hostname: { pretty: 'Not allowed' } }));
      for (const button of ['#apply-button', '#reconcile-button']) {
        await page.click(button);
        await waitForText(page, '#editor-message', /Not allowed.*denied for uid 65534 by polkit/s);
        assert.equal(await page.getAttribute('#editor-message', 'data-kind'), 'denied');
        await page.click('#plan-button'); // reading stays open: Plan works
        await waitForText(page, '#editor-message', /Plan ready/);
      }
      assert.equal(await property('DesiredGeneration'), generation);
      await page.click('#apply-button');
      await waitForText(page, '#editor-message', /Not allowed/);
      await screenshot(page, 'non-admin');
    } finally {
      await page?.close();
      page = undefined;
      await asNobody.stop();
    }
  });

  it('a user polkit authorizes applies from a session without root', async () => {
    const asDaemon = await startCockpit(stack.bus, 'daemon');
    try {
      const { page } = await fromBase(asDaemon.pageUrl);
      await setDocument(page, documentWith({ hostname: { pretty: 'Allowed by polkit' } }));
      await page.click('#apply-button');
      await waitForText(page, '#editor-message', /\(apply\)\s*done\s*1 changed/);
      const [record] = JSON.parse(await stack.client.history(1)) as { uid: number }[];
      assert.equal(record?.uid, 1, 'the ledger names the session user, not root');
    } finally {
      await page?.close();
      page = undefined;
      await asDaemon.stop();
    }
  });
});
