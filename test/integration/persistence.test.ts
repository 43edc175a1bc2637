import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { buildDocumentSchema } from '../../src/document/document.js';
import { DocumentValidator } from '../../src/document/validator.js';
import { ErrorName } from '../../src/errors.js';
import { PLUGINS } from '../../src/plugins/registry.js';
import { ALLOW_UNTRUSTED, CLI, defaultDaemonArgs } from '../harness/daemon.js';
import { start } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import { errorOf, jobIdOf } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';

const validator = new DocumentValidator(buildDocumentSchema(PLUGINS));

function stateFile(stack: Stack): string {
  return join(stack.bus.dir, 'state', 'desired.json');
}

/** A large document, so a write takes long enough to be interrupted. */
function bigDocument(marker: string): string {
  const packages = Object.fromEntries(
    Array.from({ length: 12_000 }, (_, i) => [`${marker}-${i}`, 'installed' as const]),
  );
  return packagesDocument(packages);
}

describe('durable desired state', () => {
  let stack: Stack;
  before(async () => {
    // The dummy backend's packages are unsigned: its 10 s install needs packagekit.onlyTrusted=false.
    stack = await startStack({ daemonArgs: [...ALLOW_UNTRUSTED, '--no-drift-correction'] });
  });
  after(async () => stack?.stop());

  it('persists an accepted document and reloads it at start-up, reconciling once', async () => {
    const document = packagesDocument({ glib2: 'installed', powertop: 'installed' });
    await stack.client.apply(document);
    assert.deepEqual(JSON.parse(await readFile(stateFile(stack), 'utf8')), JSON.parse(document));
    await stack.restartDaemon();
    assert.deepEqual(JSON.parse(await stack.client.desiredState()), JSON.parse(document));
    // The start-up reconcile is job 1 of the new daemon.
    const path = '/org/opdbus/StateManager/job/1';
    assert.equal(await stack.client.jobProperty(path, 'Kind'), 'reconcile');
    const conditions = JSON.parse(
      String(await stack.client.managerProperty('Conditions')),
    ) as Record<string, { status: string; message: string }>;
    assert.equal(conditions.Ready?.status, 'True');
    // The message describes the present: no stale "no desired state yet".
    assert.doesNotMatch(String(conditions.Ready?.message), /no desired state/);
    assert.equal(await stack.client.managerProperty('DesiredGeneration'), 1n);
  });

  it('survives kill -9 during an apply: the accepted document is back after restart', async () => {
    const document = packagesDocument({ 'vips-doc': 'installed', glib2: 'installed' });
    const path = await stack.client.apply(document);
    await sleep(300); // the dummy install runs for 10 s
    assert.equal(await stack.client.jobProperty(path, 'State'), 'running');
    stack.daemon.kill('SIGKILL');
    await stack.daemon.exited;
    await stack.restartDaemon();
    assert.deepEqual(JSON.parse(await stack.client.desiredState()), JSON.parse(document));
    assert.equal(
      await stack.client.jobProperty('/org/opdbus/StateManager/job/1', 'Kind'),
      'reconcile',
    );
  });

  it('never leaves a torn file when killed while writing', async () => {
    const documents = [bigDocument('a'), bigDocument('b')];
    const initial = packagesDocument({ 'vips-doc': 'installed', glib2: 'installed' });
    // A document on disk before the first kill (Apply answers once it is persisted).
    await stack.client.apply(initial);
    let checked = 0;
    for (let round = 0; round < 12; round += 1) {
      const next = documents[round % 2] as string;
      const applying = stack.client.apply(next).catch(() => undefined);
      await sleep(5 + ((round * 7) % 40));
      stack.daemon.kill('SIGKILL');
      await stack.daemon.exited;
      await applying;
      const text = await readFile(stateFile(stack), 'utf8').catch(() => undefined);
      if (text !== undefined) {
        const persisted = validator.parse(text);
        assert.ok(
          [...documents, initial].some(
            (d) => JSON.stringify(JSON.parse(d)) === JSON.stringify(persisted),
          ),
          `round ${round}: the file holds a whole document`,
        );
        checked += 1;
      }
      await stack.restartDaemon();
    }
    assert.equal(checked, 12, 'the file was there to check after every kill');
  });

  it('starts with no desired state, loudly, when the file is corrupt', async () => {
    await writeFile(stateFile(stack), '{"version": 1, "plugins": {"packagekit": {"packa');
    const daemon = await stack.restartDaemon();
    assert.deepEqual(JSON.parse(await stack.client.desiredState()), { version: 1, plugins: {} });
    assert.match(daemon.output.join(''), /persisted desired state is corrupt or invalid/);
  });

  it('refuses an Apply it cannot persist, and changes nothing', async () => {
    // A state directory below a regular file can never be created, even by root.
    await writeFile(join(stack.bus.dir, 'not-a-dir'), '');
    await stack.restartDaemon(['--state-dir', join(stack.bus.dir, 'not-a-dir', 'state')]);
    const desired = await stack.client.desiredState();
    const error = await errorOf(stack.client.apply(packagesDocument({ glib2: 'installed' })));
    assert.equal(error.type, ErrorName.PersistFailed);
    assert.match(error.text, /cannot persist the desired state .* the document was not accepted/);
    assert.equal(await stack.client.desiredState(), desired);
    assert.equal(await stack.client.managerProperty('DesiredGeneration'), 0n);
  });
});

describe('daemon lifecycle', () => {
  it('exits non-zero when the bus connection is lost', async () => {
    const stack = await startStack();
    try {
      process.kill(stack.bus.pid, 'SIGKILL');
      const code = await stack.daemon.exited;
      assert.equal(code, 1);
      assert.match(stack.daemon.output.join(''), /lost the bus connection/);
    } finally {
      await stack.stop();
    }
  });

  it('a second daemon on the same bus exits 1, naming the owner problem', async () => {
    const stack = await startStack();
    try {
      const second = start(
        'second daemon',
        process.execPath,
        [CLI, 'daemon', ...defaultDaemonArgs(stack.bus)],
        stack.bus.env,
      );
      assert.equal(await second.exited, 1);
      assert.match(second.output.join(''), /already owned by another process.*start-up failed/);
      assert.ok(stack.daemon.running, 'the first daemon keeps serving');
    } finally {
      await stack.stop();
    }
  });

  it('runs the periodic full check on its cron schedule, moving LastReconcile without a job', async () => {
    const stack = await startStack({ daemonArgs: ['--drift-schedule', '*/1 * * * * *'] });
    try {
      await stack.client.apply(packagesDocument({ glib2: 'installed' }));
      await waitForOutput(stack.daemon, /periodic drift check scheduled/);
      const first = (await stack.client.managerProperty('LastReconcile')) as bigint;
      let later = first;
      for (let i = 0; i < 50 && later === first; i += 1) {
        await sleep(100);
        later = (await stack.client.managerProperty('LastReconcile')) as bigint;
      }
      assert.ok(later > first, 'a periodic check ran');
      const conditions = JSON.parse(
        String(await stack.client.managerProperty('Conditions')),
      ) as Record<string, { reason: string }>;
      assert.equal(conditions.Drifted?.reason, 'InSync');
    } finally {
      await stack.stop();
    }
  });

  it('op-dbus watch follows jobs and progress live', async () => {
    const stack = await startStack();
    try {
      const watcher = start('op-dbus watch', process.execPath, [CLI, 'watch'], stack.bus.env);
      await waitForOutput(watcher, /watching org\.opdbus\.StateManager/);
      await stack.client.apply(packagesDocument({ glib2: 'installed' }));
      await waitForOutput(watcher, /job \d+ done/);
      assert.match(
        watcher.output.join(''),
        /job \d+ new \(apply\)[\s\S]*job \d+ \[packagekit\] resolving/,
      );
      watcher.kill('SIGINT');
      assert.equal(await watcher.exited, 0);
    } finally {
      await stack.stop();
    }
  });

  it('SIGTERM cancels the running job and exits 0', async () => {
    const stack = await startStack({ daemonArgs: ALLOW_UNTRUSTED });
    try {
      const path = await stack.client.apply(packagesDocument({ 'vips-doc': 'installed' }));
      await sleep(300);
      assert.equal(await stack.client.jobProperty(path, 'State'), 'running');
      const code = await stack.daemon.stop(20_000);
      assert.equal(code, 0);
      assert.match(stack.daemon.output.join(''), /"state":"cancelled"/);
      assert.ok(jobIdOf(path) > 0);
    } finally {
      await stack.stop();
    }
  });

  it('SIGHUP reloads the configuration file', async () => {
    const stack = await startStack();
    try {
      const config = join(stack.bus.dir, 'op-dbus.json');
      await writeFile(config, JSON.stringify({ logLevel: 'info', driftSchedule: '*/15 * * * *' }));
      const daemon = await stack.restartDaemon(['--config', config, '--log-level', 'info']);
      await writeFile(
        config,
        JSON.stringify({ logLevel: 'info', driftSchedule: '*/5 * * * *', jobRetentionSeconds: 60 }),
      );
      daemon.kill('SIGHUP');
      await waitForOutput(daemon, /configuration reloaded/);
      const output = daemon.output.join('');
      assert.match(output, /"schedule":"\*\/5 \* \* \* \*".*periodic drift check scheduled/);
      assert.match(output, /"settings":\["jobRetentionSeconds"\].*take effect after a restart/);
      await writeFile(config, '{"logLevel": "loud"}');
      daemon.kill('SIGHUP');
      await waitForOutput(daemon, /configuration reload failed/);
      assert.ok(daemon.running, 'a bad configuration file does not kill the daemon');
    } finally {
      await stack.stop();
    }
  });
});

async function waitForOutput(daemon: { output: string[] }, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (pattern.test(daemon.output.join(''))) return;
    await sleep(100);
  }
  assert.fail(`daemon output never matched ${String(pattern)}`);
}
