import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI } from '../harness/daemon.js';
import { startStack, type Stack } from '../harness/stack.js';
import { jobIdOf, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';

interface RecordJson {
  seq: number;
  job: number;
  uid: number;
  kind: string;
  state: string;
  desiredHash: string;
  plan: { resource: string; action: string }[];
  results: { resource: string; outcome: string; error?: string }[];
}

describe('the audit ledger over D-Bus and the CLI', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ daemonArgs: ['--no-drift-correction'] });
  });
  after(async () => stack?.stop());

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { env: stack.bus.env, encoding: 'utf8' });

  it('records every job with caller, plan and results, and the chain verifies', async () => {
    const recorder = await SignalRecorder.start(stack.clientBus);
    const first = await stack.client.apply(packagesDocument({ glib2: 'installed' }));
    const second = await stack.client.apply(
      packagesDocument({ glib2: 'installed', nosuchpackage: 'installed' }),
    );
    await recorder.waitForJobRemoved(jobIdOf(second));
    recorder.stop();
    const deadline = Date.now() + 5_000;
    let records: RecordJson[] = [];
    while (records.length < 2 && Date.now() < deadline)
      records = JSON.parse(await stack.client.history(10)) as RecordJson[];
    assert.deepEqual(
      records.map((r) => [r.seq, r.job, r.uid, r.kind, r.state]),
      [
        [1, jobIdOf(first), 0, 'apply', 'done'],
        [2, jobIdOf(second), 0, 'apply', 'failed'],
      ],
    );
    assert.deepEqual(records[1]?.plan, [
      { plugin: 'packagekit', resource: 'nosuchpackage', action: 'unresolvable' },
    ]);
    assert.match(
      String(records[1]?.results.find((r) => r.resource === 'nosuchpackage')?.error),
      /no package named/,
    );
    assert.notEqual(records[0]?.desiredHash, records[1]?.desiredHash);
    assert.deepEqual(JSON.parse(await stack.client.verifyHistory()), { ok: true, records: 2 });
    const history = cli('history');
    assert.equal(history.status, 0);
    assert.match(
      history.stdout,
      /#2 .* uid=0 job \d+ apply failed packagekit\/nosuchpackage:unresolvable/,
    );
    assert.equal(cli('history', '--verify').status, 0);
  });

  it('detects a tampered record', async () => {
    const file = join(stack.bus.dir, 'state', 'ledger.jsonl');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"state":"failed"', '"state":"done"'));
    const report = JSON.parse(await stack.client.verifyHistory()) as {
      ok: boolean;
      firstBad?: { line: number };
    };
    assert.equal(report.ok, false);
    assert.equal(report.firstBad?.line, 2);
    const verify = cli('history', '--verify');
    assert.equal(verify.status, 1);
    assert.match(verify.stdout, /NOT intact.*\n {2}line 2: its content does not match its hash/);
  });
});
