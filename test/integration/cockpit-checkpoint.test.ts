import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { applyAndWait } from '../../src/cli/client.js';
import { getProperty } from '../../src/dbus/bus.js';
import { waitForText } from '../harness/browser.js';
import { startCockpit } from '../harness/cockpit.js';
import { waitFor } from '../harness/processes.js';
import type { Stack } from '../harness/stack.js';
import { openPage, screenshot, setDocument } from '../helpers/cockpit-page.js';
import {
  browserTestsMissing,
  startCockpitStack,
  type CockpitStack,
} from '../helpers/cockpit-stack.js';

// Confirm or roll back from the page, against the real daemon's ApplyConfirmed
// and checkpoint objects, with hostnamed and a systemd user manager: a hostname
// change applied on probation, confirmed in the page, rolled back from the page,
// or left alone until the deadline rolls it back.
const INSTALL = '[Install]\nWantedBy=default.target\n';
/** Takes 4 s to start, so the probationary job runs long enough to see its provisional deadline. */
const SLOW = 'opdbus-slow.service';
const UNITS = {
  [SLOW]: `[Service]\nExecStartPre=/bin/sleep 4\nExecStart=/bin/sleep infinity\n${INSTALL}`,
};
const BASE_HOSTNAME = 'cockpit-base';
const PROBATION_HOSTNAME = 'cockpit-probation';

function documentWith(hostname: string, slowActive = false): object {
  return {
    version: 1,
    plugins: {
      systemd: { units: { [SLOW]: { active_state: slowActive ? 'active' : 'inactive' } } },
      hostname: { static: hostname },
    },
  };
}
const BASE = documentWith(BASE_HOSTNAME);

describe('confirm or roll back from the Cockpit page', { skip: browserTestsMissing }, () => {
  let all: CockpitStack;
  let stack: Stack;
  let page: Page | undefined;

  before(async () => {
    all = await startCockpitStack(UNITS);
    stack = all.stack;
  });
  after(async () => {
    await all?.stop();
  });

  const pendingCheckpoint = async (): Promise<string> =>
    String(await stack.client.managerProperty('PendingCheckpoint'));
  const deadlineOf = async (path: string): Promise<string> =>
    String((await stack.client.checkpointProperties(path)).Deadline);
  const hostname = async (): Promise<string> =>
    String(
      await getProperty(
        stack.clientBus,
        'org.freedesktop.hostname1',
        '/org/freedesktop/hostname1',
        'org.freedesktop.hostname1',
        'StaticHostname',
      ),
    );

  /**
   * Each test starts with no checkpoint pending (one an earlier failure left is
   * rolled back), the base document applied by another client, and a fresh tab.
   */
  async function fromBase(): Promise<Page> {
    const left = await pendingCheckpoint();
    if (left !== '/') {
      await stack.client.checkpointCall(left, 'Rollback');
      await waitFor(
        'the leftover checkpoint to end',
        async () => (await pendingCheckpoint()) === '/',
        60_000,
      );
    }
    const outcome = await applyAndWait(stack.client, JSON.stringify(BASE), () => undefined);
    assert.equal(outcome.state, 'done', outcome.result);
    assert.equal(await hostname(), BASE_HOSTNAME);
    await page?.close();
    page = await openPage(all.browser, all.cockpit.pageUrl);
    return page;
  }

  /** Applies `document` from the page on probation with `seconds` to confirm. */
  async function applyOnProbation(page: Page, document: object, seconds: number): Promise<void> {
    await setDocument(page, document);
    await page.check('#confirm-enabled');
    await page.fill('#confirm-seconds', String(seconds));
    await page.click('#apply-button');
  }

  it('shows the pending checkpoint, follows its deadline, refuses a plain Apply meanwhile, and confirms', async () => {
    const page = await fromBase();
    await applyOnProbation(page, documentWith(PROBATION_HOSTNAME, true), 60);
    // While the probationary job runs (the unit takes 4 s), the deadline is provisional.
    const pending = '#checkpoint .checkpoint[data-phase="pending"]';
    await waitForText(page, pending, /Provisional: the window starts when job \d+ ends/);
    const provisional = await page.getAttribute('#checkpoint time.deadline', 'data-deadline');
    await waitForText(page, '#editor-message', /\(apply\)\s*done/);
    // The job ended: the daemon moved the deadline (PropertiesChanged); the page follows.
    const path = await pendingCheckpoint();
    assert.notEqual(path, '/');
    const armed = await deadlineOf(path);
    assert.ok(BigInt(armed) > BigInt(provisional ?? '0'), `${armed} after ${provisional}`);
    await page.waitForSelector(`#checkpoint time.deadline[data-deadline="${armed}"]`);
    assert.equal(await page.locator('#checkpoint .provisional').count(), 0);
    await waitForText(page, `${pending} .countdown`, /^\d+ s left$/);
    const snapshot = JSON.parse(
      String((await stack.client.checkpointProperties(path)).Snapshot),
    ) as {
      plugin: string;
      restore: string;
    }[];
    assert.deepEqual(snapshot.map((e) => e.plugin).sort(), ['hostname', 'systemd']);
    const restores = snapshot.map((e) => `${e.plugin}: ${e.restore}`).join(', ');
    await waitForText(
      page,
      `${pending} .snapshot`,
      new RegExp(`A rollback restores ${restores}\\.`),
    );
    assert.equal(await hostname(), PROBATION_HOSTNAME);
    await screenshot(page, 'checkpoint');

    // A plain Apply meanwhile: the daemon refuses it, and the page says why.
    const generation = String(await stack.client.managerProperty('DesiredGeneration'));
    await page.uncheck('#confirm-enabled');
    await setDocument(page, documentWith('cockpit-meanwhile'));
    await page.click('#apply-button');
    await waitForText(
      page,
      '#editor-message',
      /A checkpoint is pending.*is pending until.*Nothing was applied/s,
    );
    assert.equal(await page.getAttribute('#editor-message', 'data-kind'), 'pending');
    assert.equal(String(await stack.client.managerProperty('DesiredGeneration')), generation);

    // Extend: a new deadline from now, shown as the daemon has it.
    await page.fill('#extend-seconds', '600');
    await page.click('#checkpoint-extend');
    await waitFor('the extended deadline', async () => (await deadlineOf(path)) !== armed);
    const extended = await deadlineOf(path);
    assert.ok(BigInt(extended) > BigInt(armed));
    await page.waitForSelector(`#checkpoint time.deadline[data-deadline="${extended}"]`);
    await waitForText(page, `${pending} .countdown`, /^(9|10) min \d\d s left$/);

    await page.click('#checkpoint-confirm');
    await waitForText(
      page,
      '#checkpoint-outcome[data-outcome="confirmed"]',
      /Checkpoint \d+: confirmed\./,
    );
    assert.equal(await pendingCheckpoint(), '/');
    assert.equal(await hostname(), PROBATION_HOSTNAME);
  });

  it('left alone, the checkpoint rolls back at its deadline: the page shows rolled-back and the hostname is back', async () => {
    const page = await fromBase();
    await applyOnProbation(page, documentWith(PROBATION_HOSTNAME), 3);
    await waitForText(
      page,
      '#checkpoint .checkpoint[data-phase="pending"] .countdown',
      /^\d s left$/,
    );
    assert.equal(await hostname(), PROBATION_HOSTNAME);
    await waitForText(
      page,
      '#checkpoint-outcome[data-outcome="rolled-back"]',
      /Checkpoint \d+: rolled-back\. The previous document is desired again/,
      60_000,
    );
    await waitFor('the hostname back', async () => (await hostname()) === BASE_HOSTNAME, 30_000);
    assert.deepEqual(JSON.parse(await stack.client.desiredState()), BASE);
    assert.equal(await pendingCheckpoint(), '/');
    // The rollback is a job like any other on the page.
    await waitForText(page, '#recent-jobs', /\d+\s+rollback\s+done/);
    await screenshot(page, 'rolled-back');
  });

  it('Roll back from the page ends it at once; a session without admin rights may not confirm', async () => {
    const page = await fromBase();
    await applyOnProbation(page, documentWith(PROBATION_HOSTNAME), 600);
    await waitForText(page, '#editor-message', /\(apply\)\s*done/);
    const path = await pendingCheckpoint();

    const asNobody = await startCockpit(stack.bus, 'nobody');
    try {
      const nobody = await openPage(all.browser, asNobody.pageUrl);
      await nobody.click('#checkpoint-confirm');
      await waitForText(nobody, '#checkpoint .call-failure', /checkpoint denied for uid 65534/);
      await nobody.close();
    } finally {
      await asNobody.stop();
    }
    assert.equal((await stack.client.checkpointProperties(path)).State, 'pending');

    await page.click('#checkpoint-rollback');
    await waitForText(
      page,
      '#checkpoint-outcome[data-outcome="rolled-back"]',
      /rolled-back/,
      60_000,
    );
    await waitFor('the hostname back', async () => (await hostname()) === BASE_HOSTNAME, 30_000);
    assert.equal((await stack.client.checkpointProperties(path)).State, 'rolled-back');
  });
});
