import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromiumInstalled, startBrowser, waitForText, type Browser } from '../harness/browser.js';
import { cockpitInstalled, startCockpit, type Cockpit } from '../harness/cockpit.js';
import { startStack, type Stack } from '../harness/stack.js';
import { openPage } from '../helpers/cockpit-page.js';

// The page across the daemon's life: a restart (new owner of the bus name, job ids
// from 1 again, state re-read from disk) and a daemon that is not running yet when
// the page opens. Only the daemon is needed here: no plugin services.
const missing = !cockpitInstalled()
  ? 'cockpit-ws and cockpit-bridge are not installed'
  : !chromiumInstalled()
    ? 'chromium is not installed'
    : false;

describe('the Cockpit page when the daemon restarts or is absent', { skip: missing }, () => {
  let stack: Stack;
  let cockpit: Cockpit;
  let browser: Browser;

  before(async () => {
    stack = await startStack({ backend: 'none' });
    cockpit = await startCockpit(stack.bus);
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.stop();
    await cockpit?.stop();
    await stack?.stop();
  });

  const property = async (name: string): Promise<string> =>
    String(await stack.client.managerProperty(name));

  it('shows the restarted daemon as it is, not as the old one left it', async () => {
    for (const pretty of ['a', 'b', 'c'])
      await stack.client.apply(JSON.stringify({ version: 1, plugins: { hostname: { pretty } } }));
    const page = await openPage(browser, cockpit.pageUrl);
    await waitForText(page, '#desired-generation', /^3$/);
    // A fresh state folder: the new daemon has no document, runs no start-up job,
    // and so sends no PropertiesChanged at all. The old one's last word was 'stopping'.
    await stack.restartDaemon(['--state-dir', await mkdtemp(join(stack.bus.dir, 'fresh-'))]);
    assert.equal(await property('DesiredGeneration'), '0');
    await waitForText(page, '#daemon-presence', /^running$/);
    await waitForText(page, '#desired-generation', /^0$/);
    await waitForText(page, '#status-value', /^idle$/);
    await page.close();
  });

  it('says when op-dbus is not running, and loads once it starts', async () => {
    await stack.daemon.stop();
    const page = await browser.newPage();
    await page.goto(cockpit.pageUrl);
    await waitForText(page, '#page-alert', /op-dbus is not running/);
    assert.equal(await page.getAttribute('body', 'data-ready'), 'no-daemon');
    await stack.restartDaemon();
    await page.waitForSelector('body[data-ready="yes"]', { timeout: 30_000 });
    await waitForText(page, '#daemon-presence', /^running$/);
    await page.close();
  });
});
