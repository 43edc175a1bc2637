import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Ledger, type LedgerEntry } from '../../../src/ledger/ledger.js';

const log = pino({ level: 'silent' });

function entry(job: number): LedgerEntry {
  return {
    time: new Date(1_700_000_000_000 + job).toISOString(),
    uid: job % 2 === 0 ? 0 : 1000,
    sender: `:1.${job}`,
    job,
    kind: 'apply',
    state: 'done',
    desiredHash: 'a'.repeat(64),
    plan: [{ plugin: 'packagekit', resource: 'hello', action: 'install' }],
    results: [{ plugin: 'packagekit', resource: 'hello', outcome: 'changed' }],
  };
}

async function ledgerWith(records: number): Promise<{ ledger: Ledger; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'opdbus-ledger-'));
  const ledger = new Ledger(dir, log);
  await ledger.open();
  for (let job = 1; job <= records; job += 1) await ledger.append(entry(job));
  return { ledger, dir };
}

async function rewriteLines(ledger: Ledger, change: (lines: string[]) => string[]): Promise<void> {
  const lines = (await readFile(ledger.path, 'utf8')).split('\n').filter(Boolean);
  await writeFile(ledger.path, `${change(lines).join('\n')}\n`);
}

describe('audit ledger (hash chain)', () => {
  it('verifies an untouched chain and returns the newest records', async () => {
    const { ledger } = await ledgerWith(5);
    assert.deepEqual(await ledger.verify(), { ok: true, records: 5 });
    assert.deepEqual(
      (await ledger.history(2)).map((r) => r.job),
      [4, 5],
    );
  });

  it('reads include the appends queued before them (a reader reacting to JobRemoved)', async () => {
    const { ledger } = await ledgerWith(1);
    // Not awaited: the daemon queues the append when the job ends, in the same turn
    // as it sends JobRemoved; a GetHistory or VerifyHistory that follows must see it.
    const appended = ledger.append(entry(2));
    const [history, report] = await Promise.all([ledger.history(5), ledger.verify()]);
    assert.deepEqual(
      history.map((r) => r.job),
      [1, 2],
    );
    assert.deepEqual(report, { ok: true, records: 2 });
    await appended;
  });

  it('detects an edited record, naming its line', async () => {
    const { ledger } = await ledgerWith(5);
    await rewriteLines(ledger, (lines) =>
      lines.map((line, i) => (i === 2 ? line.replace('"state":"done"', '"state":"failed"') : line)),
    );
    const report = await ledger.verify();
    assert.equal(report.ok, false);
    assert.deepEqual(report.firstBad, {
      line: 3,
      reason: 'its content does not match its hash (edited)',
    });
  });

  it('detects a deleted record', async () => {
    const { ledger } = await ledgerWith(5);
    await rewriteLines(ledger, (lines) => lines.filter((_, i) => i !== 1));
    const report = await ledger.verify();
    assert.equal(report.firstBad?.line, 2);
    assert.match(String(report.firstBad?.reason), /deleted or moved/);
  });

  it('detects a record rewritten with a fresh hash: the next one no longer links', async () => {
    const { ledger } = await ledgerWith(4);
    const { createHash } = await import('node:crypto');
    const { canonicalJson } = await import('../../../src/ledger/canonical-json.js');
    await rewriteLines(ledger, (lines) =>
      lines.map((line, i) => {
        if (i !== 1) return line;
        const { hash: _old, ...record } = JSON.parse(line) as Record<string, unknown>;
        record.state = 'failed';
        const hash = createHash('sha256')
          .update(String(record.prevHash) + canonicalJson(record))
          .digest('hex');
        return JSON.stringify({ ...record, hash });
      }),
    );
    const report = await ledger.verify();
    assert.deepEqual(report.firstBad, { line: 3, reason: 'does not link to the previous record' });
  });

  it('survives a torn last line: reported, moved aside at open, and the chain goes on', async () => {
    const { ledger, dir } = await ledgerWith(3);
    await appendFile(ledger.path, '{"time":"2026-11-25T00:00:00Z","uid":0,"sen');
    const torn = await ledger.verify();
    assert.equal(torn.ok, false);
    assert.deepEqual(torn.tornTail, { line: 4, bytes: 43 });
    assert.equal(torn.firstBad, undefined, 'the whole records before it still verify');
    const reopened = new Ledger(dir, log);
    await reopened.open();
    await reopened.append(entry(4));
    assert.deepEqual(await reopened.verify(), { ok: true, records: 4 });
    assert.ok(
      (await readdir(dir)).some((name) => name.startsWith('ledger.jsonl.torn-')),
      'the torn bytes are kept',
    );
  });

  it('continues the chain across restarts', async () => {
    const { ledger, dir } = await ledgerWith(2);
    const again = new Ledger(dir, log);
    await again.open();
    const record = await again.append(entry(3));
    assert.equal(record.seq, 3);
    assert.equal(record.prevHash, (await ledger.history(3))[1]?.hash);
    assert.deepEqual(await again.verify(), { ok: true, records: 3 });
  });
});
