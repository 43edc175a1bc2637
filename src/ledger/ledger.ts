import { createHash } from 'node:crypto';
import { mkdir, open, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { canonicalJson } from './canonical-json.js';

export const LEDGER_FILE = 'ledger.jsonl';
const GENESIS = '0'.repeat(64);

/** What one job leaves in the ledger (before chaining). */
export interface LedgerEntry {
  time: string;
  uid: number;
  sender: string;
  job: number;
  kind: string;
  state: string;
  /** sha256 of the canonical JSON of the desired document the job worked on. */
  desiredHash: string;
  plan: { plugin: string; resource: string; action: string }[];
  results: { plugin: string; resource: string; outcome: string; error?: string }[];
  error?: string;
  /** For kind "checkpoint": which checkpoint, and its deadline (ISO time). */
  checkpoint?: { id: number; deadline: string };
}

/** A record as stored: the entry, its place in the chain, and the hash that seals it. */
export type LedgerRecord = LedgerEntry & { seq: number; prevHash: string; hash: string };

export interface LedgerReport {
  ok: boolean;
  records: number;
  /** The first record that does not verify: edited, deleted, reordered or unreadable. */
  firstBad?: { line: number; reason: string };
  /** A partial last line (a crash mid-append); earlier records are unaffected. */
  tornTail?: { line: number; bytes: number };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function seal(entry: LedgerEntry, seq: number, prevHash: string): LedgerRecord {
  const unsealed = { ...entry, seq, prevHash };
  return { ...unsealed, hash: sha256(prevHash + canonicalJson(unsealed)) };
}

/** Checks every line: its JSON, its sequence, its link to the previous hash and its own hash. */
export function verifyLedgerText(text: string): LedgerReport & { last?: LedgerRecord } {
  const lines = text.split('\n');
  const torn = lines.pop() ?? '';
  let prevHash = GENESIS;
  let last: LedgerRecord | undefined;
  for (const [index, line] of lines.entries()) {
    const fail = (reason: string): LedgerReport => ({
      ok: false,
      records: index,
      firstBad: { line: index + 1, reason },
    });
    let record: LedgerRecord;
    try {
      record = JSON.parse(line) as LedgerRecord;
    } catch {
      return fail('not valid JSON');
    }
    const { hash, ...unsealed } = record;
    if (record.seq !== index + 1)
      return fail(
        `sequence ${String(record.seq)} where ${index + 1} was expected (a record was deleted or moved)`,
      );
    if (record.prevHash !== prevHash) return fail('does not link to the previous record');
    if (sha256(prevHash + canonicalJson(unsealed)) !== hash)
      return fail('its content does not match its hash (edited)');
    prevHash = hash;
    last = record;
  }
  const report: LedgerReport & { last?: LedgerRecord } = {
    ok: torn === '',
    records: lines.length,
    last,
  };
  if (torn !== '') report.tornTail = { line: lines.length + 1, bytes: Buffer.byteLength(torn) };
  return report;
}

/**
 * The append-only audit trail: one JSON line per finished job, each carrying the
 * hash of the one before, so an edited, deleted or reordered record is detected.
 * Appends are fsynced; a line torn by a crash is moved aside at start-up (kept,
 * not lost) so the chain continues from the last whole record.
 */
export class Ledger {
  readonly path: string;
  private lastHash = GENESIS;

  /** The newest record's hash (the chain's head), for a fleet report to anchor. */
  get head(): string {
    return this.lastHash;
  }
  private nextSeq = 1;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, LEDGER_FILE);
  }

  /** Reads the chain's end; sets a torn tail aside. Never throws: the daemon must start. */
  async open(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.error({ err: errorMessage(err) }, 'cannot read the ledger');
      return;
    }
    const report = verifyLedgerText(text);
    if (report.firstBad)
      this.log.error(
        { path: this.path, ...report.firstBad },
        'the ledger does not verify: it was changed',
      );
    if (report.tornTail) await this.setTornTailAside(text, report.tornTail.bytes);
    if (report.last) {
      this.lastHash = report.last.hash;
      this.nextSeq = report.last.seq + 1;
    }
  }

  private async setTornTailAside(text: string, bytes: number): Promise<void> {
    const aside = `${this.path}.torn-${Date.now()}`;
    const keep = Buffer.byteLength(text) - bytes;
    await writeFile(aside, Buffer.from(text).subarray(keep));
    await truncate(this.path, keep);
    this.log.error(
      { path: this.path, aside, bytes },
      'the ledger ended in a partial record (a crash while appending); it was moved aside',
    );
  }

  /** Appends one record; appends are serialized so the chain has no forks. */
  append(entry: LedgerEntry): Promise<LedgerRecord> {
    const appended = this.queue.then(() => this.write(entry));
    this.queue = appended.then(
      () => undefined,
      () => undefined,
    );
    return appended;
  }

  private async write(entry: LedgerEntry): Promise<LedgerRecord> {
    const record = seal(entry, this.nextSeq, this.lastHash);
    await mkdir(this.stateDir, { recursive: true, mode: 0o750 });
    const file = await open(this.path, 'a', 0o640);
    try {
      await file.write(`${JSON.stringify(record)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    this.lastHash = record.hash;
    this.nextSeq += 1;
    return record;
  }

  /** Resolves when every append so far is on disk. */
  flush(): Promise<void> {
    return this.queue;
  }

  /**
   * The newest `limit` records, oldest first. Waits for the appends queued before
   * it: a client that reads the history on JobRemoved then sees that job's record.
   */
  async history(limit: number): Promise<LedgerRecord[]> {
    await this.queue;
    const text = await readFile(this.path, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((line) => line !== '');
    const records: LedgerRecord[] = [];
    for (const line of lines.slice(-Math.max(limit, 1))) {
      try {
        records.push(JSON.parse(line) as LedgerRecord);
      } catch {
        // a torn line is reported by verify(), not here
      }
    }
    return records;
  }

  async verify(): Promise<LedgerReport> {
    await this.queue;
    const text = await readFile(this.path, 'utf8').catch(() => '');
    const { last: _last, ...report } = verifyLedgerText(text);
    return report;
  }
}
