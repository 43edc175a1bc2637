import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { callMethod, connectBus, MessageClass, type MessageBus } from '../../src/dbus/bus.js';
import { allServices } from '../harness/all-services.js';
import { ALLOW_UNTRUSTED } from '../harness/daemon.js';
import { waitFor } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import type { SystemdUser } from '../harness/systemd-user.js';
import { jobIdOf, ownerOf, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';
import {
  CallCounter,
  floodAsNobody,
  sendSignalAsNobody,
  type FloodResult,
} from '../helpers/hostile.js';

const LONG_RUNNING = '[Service]\nExecStart=/bin/sleep infinity\n';

/** What root applies while the flood runs: it needs PackageKit and systemd. */
const ROOT_DOCUMENT = JSON.stringify({
  version: 1,
  plugins: {
    packagekit: { packages: { glib2: { ensure: 'installed' }, powertop: { ensure: 'installed' } } },
    systemd: { units: { 'kept.service': { active_state: 'active' } } },
  },
});

/** Every call of a flood was either answered or refused with the documented Busy. */
function onlyAnswersOrBusy(result: FloodResult, total: number): void {
  const { 'org.opdbus.Error.Busy': busy = 0, ...others } = result.errors;
  assert.deepEqual(others, {}, `errors other than Busy: ${JSON.stringify(others)}`);
  assert.equal(result.answered + busy, total);
  assert.ok(result.answered > 0, 'some reads were answered');
}

describe('hostile local users (real PackageKit, real bus policy, uid nobody)', () => {
  let stack: Stack;
  let systemd: SystemdUser;
  let recorder: SignalRecorder;

  before(async () => {
    stack = await startStack({
      // The dummy backend's packages are unsigned.
      daemonArgs: ALLOW_UNTRUSTED,
      services: allServices(async (user) => {
        systemd = user;
        await user.writeUnit('kept.service', LONG_RUNNING);
        await user.writeUnit(
          'slow-start.service',
          '[Service]\nType=oneshot\nExecStart=/bin/sleep 4\nRemainAfterExit=yes\n',
        );
      }),
    });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
  });

  async function applyAsRoot(document: string): Promise<{ state: string; result: string }> {
    const path = await stack.client.apply(document);
    const removed = await recorder.waitForJobRemoved(jobIdOf(path), 120_000);
    return {
      state: String(removed.body[2]),
      result: String(await stack.client.jobProperty(path, 'Result')),
    };
  }

  it("a flood of Plans naming made-up packages neither denies root's Apply nor exhausts PackageKit", async () => {
    const creates = new CallCounter(
      stack.bus,
      "type='method_call',interface='org.freedesktop.PackageKit',member='CreateTransaction'",
    );
    try {
      await sleep(300);
      const flood = floodAsNobody(
        stack.bus,
        'Plan',
        700,
        16,
        packagesDocument({ 'made-up-@N@': 'installed' }),
      );
      await sleep(300);
      const during = await applyAsRoot(ROOT_DOCUMENT);
      assert.equal(during.state, 'done', during.result);
      onlyAnswersOrBusy(await flood, 700);
      const after = await applyAsRoot(ROOT_DOCUMENT);
      assert.equal(after.state, 'done', after.result);
      // PackageKit refuses a uid's transactions past about 500 recent ones.
      assert.ok(creates.count < 250, `the daemon opened ${creates.count} PackageKit transactions`);
      process.stdout.write(
        `# PackageKit transactions for 700 hostile Plans + 2 applies: ${creates.count}\n`,
      );
    } finally {
      creates.stop();
    }
  });

  it('Query and Verify floods are answered or refused as Busy while root applies', async () => {
    const queries = floodAsNobody(stack.bus, 'Query', 200, 16);
    const verifies = floodAsNobody(stack.bus, 'Verify', 300, 16);
    const during = await applyAsRoot(ROOT_DOCUMENT);
    assert.equal(during.state, 'done', during.result);
    onlyAnswersOrBusy(await queries, 200);
    onlyAnswersOrBusy(await verifies, 300);
  });

  it('Plans of documents near the size limit: root still applies; larger ones are refused clearly', async () => {
    const names = Object.fromEntries(
      Array.from({ length: 5000 }, (_, i) => [`big-@N@-${i}`, 'installed' as const]),
    );
    const template = packagesDocument(names);
    assert.ok(
      template.length > 150_000 && template.length < 256 * 1024,
      `${template.length} bytes`,
    );
    const flood = floodAsNobody(stack.bus, 'Plan', 40, 8, template);
    const during = await applyAsRoot(ROOT_DOCUMENT);
    assert.equal(during.state, 'done', during.result);
    onlyAnswersOrBusy(await flood, 40);
    const huge = packagesDocument(
      Object.fromEntries(
        Array.from({ length: 12_000 }, (_, i) => [`huge-${i}`, 'installed' as const]),
      ),
    );
    const refused = await floodAsNobody(stack.bus, 'Plan', 1, 1, huge);
    assert.deepEqual(refused, { answered: 0, errors: { 'org.opdbus.Error.InvalidDocument': 1 } });
  });

  it('drift is corrected during a flood: a unit stopped mid-flood runs again within seconds', async () => {
    assert.equal((await applyAsRoot(ROOT_DOCUMENT)).state, 'done');
    const flood = floodAsNobody(
      stack.bus,
      'Plan',
      600,
      16,
      packagesDocument({ 'drift-@N@': 'installed' }),
    );
    await sleep(500);
    const stoppedAt = Date.now();
    await systemd.systemctl('stop', 'kept.service');
    await waitFor(
      'kept.service to run again',
      async () =>
        (await systemd.systemctl('is-active', 'kept.service').catch(() => '')).trim() === 'active',
      15_000,
    );
    process.stdout.write(
      `# unit running again ${Date.now() - stoppedAt} ms after the stop, mid-flood\n`,
    );
    onlyAnswersOrBusy(await flood, 600);
  });

  it("forged PackageKit Finished/ErrorCode/Package signals change nothing of a job's outcome", async () => {
    const daemon = await ownerOf(stack.clientBus, 'org.opdbus.StateManager');
    // vips-doc: the dummy backend's install takes about 10 s and leaves nothing installed.
    const path = await stack.client.apply(packagesDocument({ 'vips-doc': 'installed' }));
    let transaction = '';
    await waitFor('the install transaction', async () => {
      const [list] = await callMethod(stack.clientBus, {
        destination: 'org.freedesktop.PackageKit',
        path: '/org/freedesktop/PackageKit',
        interface: 'org.freedesktop.PackageKit',
        member: 'GetTransactionList',
      });
      transaction = (list as string[])[0] ?? '';
      return transaction !== '';
    });
    const iface = 'org.freedesktop.PackageKit.Transaction';
    sendSignalAsNobody(stack.bus, daemon, transaction, `${iface}.Package`, [
      'uint32:1',
      'string:vips-doc;9.9;x86_64;forged',
      'string:forged summary',
    ]);
    sendSignalAsNobody(stack.bus, daemon, transaction, `${iface}.ErrorCode`, [
      'uint32:8',
      'string:spoofed by an unprivileged user',
    ]);
    sendSignalAsNobody(stack.bus, daemon, transaction, `${iface}.Finished`, [
      'uint32:2',
      'uint32:1',
    ]);
    await sleep(1000);
    assert.equal(
      await stack.client.jobProperty(path, 'State'),
      'running',
      'the forged Finished was not believed',
    );
    const removed = await recorder.waitForJobRemoved(jobIdOf(path), 120_000);
    const result = String(await stack.client.jobProperty(path, 'Result'));
    assert.doesNotMatch(result, /spoofed|forged/);
    // What the real PackageKit says: the install "succeeded", and verification finds nothing installed.
    assert.match(result, /not as desired after install/);
    assert.equal(removed.body[2], 'failed');
    const ledger = await stack.client.history(5);
    assert.doesNotMatch(ledger, /spoofed|forged/);
    assert.match(stack.daemon.output.join(''), /signal not from the service owner dropped/);
  });

  it("a forged systemd JobRemoved for the daemon's start job is not believed", async () => {
    // systemd's user manager has its own bus that only root can reach here; the
    // forger is another connection of root's, which is no more the owner of
    // org.freedesktop.systemd1 than nobody is on the system bus.
    const forger = await connectBus(systemd.address);
    try {
      const daemonOnUserBus = await connectionOfPid(forger, stack.daemon.child.pid ?? -1);
      const path = await stack.client.apply(
        JSON.stringify({
          version: 1,
          plugins: { systemd: { units: { 'slow-start.service': { active_state: 'active' } } } },
        }),
      );
      let jobPath = '';
      await waitFor('the start job in systemd', async () => {
        const jobs = await systemd.systemctl('list-jobs', '--no-legend');
        const id = /^(\d+)\s+slow-start\.service/m.exec(jobs)?.[1];
        jobPath = id ? `/org/freedesktop/systemd1/job/${id}` : '';
        return jobPath !== '';
      });
      const forged = MessageClass.newSignal(
        '/org/freedesktop/systemd1',
        'org.freedesktop.systemd1.Manager',
        'JobRemoved',
        'uoss',
        [Number(jobPath.split('/').pop()), jobPath, 'slow-start.service', 'failed'],
      );
      (forged as { destination?: string }).destination = daemonOnUserBus;
      forger.send(forged);
      const removed = await recorder.waitForJobRemoved(jobIdOf(path), 60_000);
      assert.equal(removed.body[2], 'done', String(await stack.client.jobProperty(path, 'Result')));
      assert.equal((await systemd.systemctl('is-active', 'slow-start.service')).trim(), 'active');
    } finally {
      forger.disconnect();
    }
  });

  it('a forged hostname1 PropertiesChanged is dropped and starts no drift check', async () => {
    const daemon = await ownerOf(stack.clientBus, 'org.opdbus.StateManager');
    const before = stack.daemon.output
      .join('')
      .split('signal not from the service owner dropped').length;
    const checks = (): number =>
      stack.daemon.output.join('').split('"msg":"drift detected"').length;
    const checksBefore = checks();
    sendSignalAsNobody(
      stack.bus,
      daemon,
      '/org/freedesktop/hostname1',
      'org.freedesktop.DBus.Properties.PropertiesChanged',
      [
        'string:org.freedesktop.hostname1',
        'dict:string:string:StaticHostname,forged',
        'array:string:',
      ],
    );
    await waitFor(
      'the daemon to drop the forged signal',
      () =>
        stack.daemon.output.join('').split('signal not from the service owner dropped').length >
        before,
    );
    await sleep(500);
    assert.equal(checks(), checksBefore);
  });
});

/** The unique name on `bus` of the connection process `pid` holds. */
async function connectionOfPid(bus: MessageBus, pid: number): Promise<string> {
  const call = (member: string, body: unknown[] = []) =>
    callMethod(bus, {
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member,
      signature: body.length > 0 ? 's' : '',
      body,
    });
  const [names] = await call('ListNames');
  for (const name of (names as string[]).filter((n) => n.startsWith(':'))) {
    const [owner] = await call('GetConnectionUnixProcessID', [name]).catch(() => [undefined]);
    if (Number(owner) === pid) return name;
  }
  throw new Error(`process ${pid} has no connection on this bus`);
}
