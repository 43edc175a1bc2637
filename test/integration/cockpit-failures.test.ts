import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { applyAndWait } from '../../src/cli/client.js';
import { waitForText } from '../harness/browser.js';
import { startCockpit, type Cockpit } from '../harness/cockpit.js';
import { waitFor } from '../harness/processes.js';
import type { Stack } from '../harness/stack.js';
import { openPage, screenshot, setDocument, tableRows } from '../helpers/cockpit-page.js';
import {
  browserTestsMissing,
  startCockpitStack,
  type CockpitStack,
} from '../helpers/cockpit-stack.js';
import { jobIdOf } from '../helpers/bus-client.js';
import { floodAsNobody, type FloodResult } from '../helpers/hostile.js';

// What the page shows when things cannot be done or are stopped, against the real
// daemon (PackageKit's dummy backend, a systemd user manager): a package no
// repository has (Plan's reason, the job's terminal failure), a unit that fails to
// start (retryable), Cancel of a running job (and its refusal without admin
// rights), and Busy when a non-root uid has too many reads in flight. The daemon
// runs without drift correction so that no correction job runs between tests.
const INSTALL = '[Install]\nWantedBy=default.target\n';
/** Fails its start job: systemd reports the job 'failed' (retryable for op-dbus). */
const FAILING = 'opdbus-failing.service';
/** Takes a minute to start: a job that starts it runs until cancelled. */
const LONG = 'opdbus-long.service';
const UNITS = {
  [FAILING]: `[Service]\nExecStartPre=/bin/false\nExecStart=/bin/sleep infinity\n${INSTALL}`,
  [LONG]: `[Service]\nExecStartPre=/bin/sleep 60\nExecStart=/bin/sleep infinity\n${INSTALL}`,
};
/** No repository has it: planned `unresolvable`, failed `terminal`. */
const MISSING_PACKAGE = 'opdbus-no-such-package';

function documentWith(extra: { packages?: object; units?: object } = {}): object {
  return {
    version: 1,
    plugins: {
      packagekit: { packages: { glib2: { ensure: 'installed' }, ...extra.packages } },
      systemd: { units: { [LONG]: { active_state: 'inactive' }, ...extra.units } },
      hostname: { pretty: 'Failures' },
    },
  };
}
const BASE = documentWith();

describe(
  'the Cockpit page when things fail, are cancelled or refused',
  { skip: browserTestsMissing },
  () => {
    let all: CockpitStack;
    let stack: Stack;
    let page: Page | undefined;
    let asNobody: Cockpit | undefined;

    before(async () => {
      all = await startCockpitStack(UNITS, ['--no-drift-correction']);
      stack = all.stack;
    });
    after(async () => {
      await asNobody?.stop();
      await all?.stop();
    });

    /**
     * A fresh cockpit-ws as `nobody` (the one before is stopped): its page talks
     * D-Bus as uid 65534, whom polkit does not authorize.
     */
    async function freshNobodyCockpit(): Promise<Cockpit> {
      await asNobody?.stop();
      asNobody = await startCockpit(stack.bus, 'nobody');
      return asNobody;
    }

    /** Each test starts from the same desired state, set by another client, in a fresh tab. */
    async function fromBase(session: 'root' | 'nobody' = 'root'): Promise<Page> {
      const outcome = await applyAndWait(stack.client, JSON.stringify(BASE), () => undefined);
      assert.equal(outcome.state, 'done', outcome.result);
      await page?.close();
      const cockpit = session === 'root' ? all.cockpit : await freshNobodyCockpit();
      page = await openPage(all.browser, cockpit.pageUrl);
      return page;
    }

    it("Plan shows a package no repository has as unresolvable, with the daemon's reason", async () => {
      const page = await fromBase();
      const edited = documentWith({ packages: { [MISSING_PACKAGE]: { ensure: 'installed' } } });
      await setDocument(page, edited);
      await page.click('#plan-button');
      await waitForText(page, '#editor-message', /Plan ready/);
      const daemonRow = (
        JSON.parse(await stack.client.plan(JSON.stringify(edited))) as {
          resource: string;
          action: string;
          reason?: string;
        }[]
      ).find((row) => row.resource === MISSING_PACKAGE);
      assert.equal(daemonRow?.action, 'unresolvable');
      assert.match(daemonRow?.reason ?? '', /no package named 'opdbus-no-such-package'/);
      const headers = await page.locator('#plan thead th').allInnerTexts();
      assert.deepEqual(headers, ['Plugin', 'Resource', 'Action', 'From → to', 'Reason']);
      const rows = await tableRows(page, '#plan');
      assert.deepEqual(
        rows.find((row) => row[1] === MISSING_PACKAGE),
        ['packagekit', MISSING_PACKAGE, 'unresolvable', '— → —', daemonRow?.reason],
      );
      // Rows with no reason leave the cell empty.
      assert.equal(rows.find((row) => row[1] === 'glib2')?.[4], '');
      await screenshot(page, 'unresolvable');
    });

    it('a failed Apply lists each failure with its kind: terminal or retryable', async () => {
      const page = await fromBase();
      await setDocument(
        page,
        documentWith({
          packages: { [MISSING_PACKAGE]: { ensure: 'installed' } },
          units: { [FAILING]: { active_state: 'active' } },
        }),
      );
      await page.click('#apply-button');
      await waitForText(page, '#editor-message', /\(apply\)\s*failed/);
      assert.equal(await page.getAttribute('#editor-message', 'data-kind'), 'error');
      const terminal = await waitForText(page, '#editor-message li[data-failure="terminal"]', /./);
      assert.match(terminal, /^packagekit\/opdbus-no-such-package\s+terminal\s+no package named/);
      const retryable = await page
        .locator('#editor-message li[data-failure="retryable"]')
        .innerText();
      assert.match(retryable, /^systemd\/opdbus-failing\.service\s+retryable\s+start/);
      // The same two, and no other, in the daemon's own Result.
      const jobPath = `/org/opdbus/StateManager/job/${await page.getAttribute('#running-job .job-panel', 'data-job')}`;
      const result = JSON.parse(String(await stack.client.jobProperty(jobPath, 'Result'))) as {
        resources: { resource: string; outcome: string; failure?: string }[];
      };
      assert.deepEqual(
        result.resources
          .filter((r) => r.outcome === 'failed')
          .map((r) => [r.resource, r.failure])
          .sort(),
        [
          [FAILING, 'retryable'],
          [MISSING_PACKAGE, 'terminal'],
        ],
      );
      await screenshot(page, 'failed');
    });

    it('Cancel stops the running job; without admin rights it is refused as a message', async () => {
      const admin = await fromBase();
      const nobody = await openPage(all.browser, (await freshNobodyCockpit()).pageUrl);
      try {
        const job = await stack.client.apply(
          JSON.stringify(documentWith({ units: { [LONG]: { active_state: 'active' } } })),
        );
        const running = `#running-job .job-panel[data-job="${jobIdOf(job)}"][data-state="running"]`;
        await nobody.click(`${running} button.job-cancel`);
        await waitForText(nobody, '#job-message', /Not allowed.*cancel denied for uid 65534/s);
        assert.equal(await nobody.getAttribute('#job-message', 'data-kind'), 'denied');
        assert.equal(await stack.client.jobProperty(job, 'State'), 'running');
        assert.match(await all.systemd.systemctl('list-jobs'), /opdbus-long\.service\s+start/);
        await screenshot(nobody, 'cancel-denied');

        // An administrator's session cancels it.
        await admin.click(`${running} button.job-cancel`);
        await waitForText(admin, '#running-job .job-panel', /\(apply\)\s*cancelled/);
        assert.equal(await stack.client.jobProperty(job, 'State'), 'cancelled');
        // The plugin cancels systemd's start job. (systemd lets a service already in
        // ExecStartPre go on 'activating': CancelJob removes the job, not the process.)
        await waitFor('no systemd job left', async () =>
          (await all.systemd.systemctl('list-jobs')).includes('No jobs running'),
        );
      } finally {
        await nobody.close();
      }
    });

    it('a read refused as Busy is shown as a message', async () => {
      const page = await fromBase('nobody');
      // PackageKit stopped: nobody's Plans naming packages never seen before wait on
      // it, and hold all of nobody's reads in flight (maxReadsPerUid is 4).
      const packagekit = all.packagekit.pid;
      process.kill(packagekit, 'SIGSTOP');
      let flood: Promise<FloodResult> | undefined;
      try {
        const template = JSON.stringify({
          version: 1,
          plugins: { packagekit: { packages: { 'opdbus-made-up-@N@': { ensure: 'installed' } } } },
        });
        flood = floodAsNobody(stack.bus, 'Plan', 4, 4, template);
        await waitFor('nobody at its limit of reads', () => readAsNobody().includes(BUSY));
        await page.click('#plan-button');
        await waitForText(
          page,
          '#editor-message',
          /op-dbus is busy.*too many requests from uid 65534.*try again/s,
        );
        assert.equal(await page.getAttribute('#editor-message', 'data-kind'), 'busy');
        await screenshot(page, 'busy');
      } finally {
        process.kill(packagekit, 'SIGCONT');
      }
      assert.deepEqual(await flood, { answered: 4, errors: {} });
    });

    const BUSY = 'org.opdbus.Error.Busy';
    /** One read (GetDesiredState) as nobody: '' when answered, else gdbus's error text. */
    function readAsNobody(): string {
      const result = spawnSync(
        'setpriv',
        [
          '--reuid=nobody',
          '--regid=nogroup',
          '--clear-groups',
          'gdbus',
          'call',
          '--system',
          '--dest',
          'org.opdbus.StateManager',
          '--object-path',
          '/org/opdbus/StateManager',
          '--method',
          'org.opdbus.StateManager.GetDesiredState',
        ],
        { env: stack.bus.env, encoding: 'utf8' },
      );
      return result.status === 0 ? '' : result.stderr;
    }
  },
);
