// `npx tsx bench/profile.ts [--reps N] [--cpu-prof DIR]`: the warm reads and the warm
// no-op Apply of the bench document (200 packages + 20 units) against the real apt
// backend and a systemd user manager, N times each, p50/p90 per call; with
// --cpu-prof, the daemon writes a V8 CPU profile to DIR and the phases' boundaries
// (CLOCK_MONOTONIC, the profile's own clock) go to DIR/phases.json, so that
// `node scripts/cpu-profile-summary.mjs DIR/*.cpuprofile DIR/phases.json` tells where
// each phase's time goes. Run it alone: `flock /tmp/opdbus-harness.lock npx tsx bench/profile.ts`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemdBusArgs } from '../test/harness/daemon.js';
import { startStack } from '../test/harness/stack.js';
import { startSystemdUser, type SystemdUser } from '../test/harness/systemd-user.js';
import { applyDone, QUIET } from './lib/sections.js';
import { warmReads, type ReadRow } from './lib/speed.js';
import { unitEnvironment } from './lib/unit-environment.js';
import {
  installedPackages,
  opdbusDocument,
  UNIT_COUNT,
  unitNames,
  writeUnits,
} from './lib/workload.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const reps = Number(option('--reps') ?? 200);
const profileDir = option('--cpu-prof');

const units = unitNames(UNIT_COUNT);
const document = opdbusDocument({ label: 'bench', packages: installedPackages(200), units });
const unit = unitEnvironment('/nonexistent');
// --cpu-prof may not go in NODE_OPTIONS: it is one of node's own arguments.
const nodeArgs: string[] = [];
if (profileDir !== undefined) {
  mkdirSync(profileDir, { recursive: true });
  nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`);
}
let systemd: SystemdUser | undefined;
const stack = await startStack({
  backend: 'apt',
  daemonArgs: QUIET,
  daemonEnv: unit.env,
  daemonNodeArgs: nodeArgs,
  services: async () => {
    systemd = await startSystemdUser();
    await writeUnits(systemd, units);
    return { daemonArgs: systemdBusArgs(systemd.address), stoppables: [systemd] };
  },
});
const phases: { name: string; startUs: number; endUs: number }[] = [];
let rows: ReadRow[];
try {
  await applyDone(stack.client, document);
  rows = await warmReads(stack.client, document, reps, (name, startUs, endUs) =>
    phases.push({ name, startUs, endUs }),
  );
} finally {
  await stack.stop();
  unit.listener?.close();
  void systemd;
}
if (profileDir !== undefined)
  writeFileSync(join(profileDir, 'phases.json'), JSON.stringify(phases));
for (const row of rows)
  console.error(`[profile] ${row.call}: p50 ${row.p50Ms} ms, p90 ${row.p90Ms} ms`);
console.log(JSON.stringify({ reps, rows }, null, 1));
