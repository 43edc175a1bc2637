// Warm reads (and the warm no-op Apply beside them), one client, one call at a
// time, on the daemon as systemd/op-dbus.service runs it (run.ts starts the stack
// with the unit's environment: bench/lib/unit-environment.ts).
import type { StateManagerClient } from '../../src/cli/client.js';
import { applyDone } from './sections.js';
import { median, quantile, round, samples } from './timing.js';

export interface ReadRow {
  call: string;
  p50Ms: number;
  p90Ms: number;
}

/** When a call's timed samples began and ended (µs, the clock V8's profiles use). */
export type PhaseMark = (call: string, startUs: number, endUs: number) => void;

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Each call `reps` times after one warm-up call: p50 and p90, one client.
 * `mark` hears each call's time span (bench/profile.ts splits a CPU profile by it).
 */
export async function warmReads(
  client: StateManagerClient,
  document: string,
  reps: number,
  mark?: PhaseMark,
): Promise<ReadRow[]> {
  const calls: [string, () => Promise<unknown>][] = [
    ['Query(systemd)', () => client.query(['systemd'])],
    ['Query(packagekit)', () => client.query(['packagekit'])],
    ['Verify', () => client.verify()],
    ['Plan(200 pkgs + 20 units)', () => client.plan(document)],
    ['Apply, warm no-op (200 pkgs + 20 units)', () => applyDone(client, document)],
  ];
  const rows: ReadRow[] = [];
  for (const [call, run] of calls) {
    await run();
    const startUs = nowUs();
    const ms = await samples(reps, run);
    mark?.(call, startUs, nowUs());
    rows.push({ call, p50Ms: round(median(ms), 2), p90Ms: round(quantile(ms, 0.9), 2) });
  }
  return rows;
}
