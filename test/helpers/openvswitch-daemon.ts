import type { JobResult } from '../../src/engine/jobs/job.js';
import type { PlannedChange } from '../../src/engine/plugin.js';
import type { OpenvswitchSection } from '../../src/plugins/openvswitch/schema.js';
import { startOpenvswitch, type OpenvswitchHarness } from '../harness/openvswitch.js';
import { startStack, type Stack } from '../harness/stack.js';
import { jobIdOf, SignalRecorder } from './bus-client.js';

export type PlanRow = PlannedChange & { plugin: string };

/** The real daemon on a private bus (no PackageKit), its openvswitch plugin on `socket(ovs)`. */
export interface OvsDaemon {
  ovs: OpenvswitchHarness;
  stack: Stack;
  recorder: SignalRecorder;
  stop(): Promise<void>;
}

/**
 * Starts a real Open vSwitch, then the daemon with `--plugin-option
 * openvswitch.socket=...` (ovsdb-server's socket unless `socket` says otherwise).
 */
export async function startOvsDaemon(
  socket: (ovs: OpenvswitchHarness) => Promise<string> | string = (ovs) => ovs.socketPath,
): Promise<OvsDaemon> {
  let ovs: OpenvswitchHarness | undefined;
  const stack = await startStack({
    backend: 'none',
    services: async () => {
      ovs = await startOpenvswitch();
      return {
        daemonArgs: ['--plugin-option', `openvswitch.socket=${await socket(ovs)}`],
        stoppables: [ovs],
      };
    },
  });
  const recorder = await SignalRecorder.start(stack.clientBus);
  return {
    ovs: ovs as OpenvswitchHarness,
    stack,
    recorder,
    async stop() {
      recorder.stop();
      await stack.stop();
    },
  };
}

export function ovsDocument(section: OpenvswitchSection): string {
  return JSON.stringify({ version: 1, plugins: { openvswitch: section } });
}

export interface FinishedJob {
  id: number;
  state: string;
  result: JobResult;
}

/** Waits for job `path` to end and reads its Result. */
export async function finishedJob(daemon: OvsDaemon, path: string): Promise<FinishedJob> {
  const removed = await daemon.recorder.waitForJobRemoved(jobIdOf(path), 120_000);
  const result = JSON.parse(
    String(await daemon.stack.client.jobProperty(path, 'Result')),
  ) as JobResult;
  return { id: jobIdOf(path), state: String(removed.body[2]), result };
}

/** Apply through the daemon's D-Bus API and wait for the job's end. */
export async function applyThroughDaemon(
  daemon: OvsDaemon,
  section: OpenvswitchSection,
): Promise<FinishedJob> {
  return finishedJob(daemon, await daemon.stack.client.apply(ovsDocument(section)));
}

/** Plan through the daemon's D-Bus API: the rows that are not 'none', as "resource action". */
export async function pendingChanges(daemon: OvsDaemon, document: string): Promise<string[]> {
  const rows = JSON.parse(await daemon.stack.client.plan(document)) as PlanRow[];
  return rows.filter((row) => row.action !== 'none').map((row) => `${row.resource} ${row.action}`);
}

/** "resource outcome" for each resource of a job, for readable assertions. */
export function outcomes(job: FinishedJob): string[] {
  return job.result.resources.map((r) => `${r.resource} ${r.outcome}`);
}
