import assert from 'node:assert/strict';
import type { ResourceOutcome } from '../../src/engine/plugin.js';
import { openvswitchPlugin } from '../../src/plugins/openvswitch/index.js';
import type { OpenvswitchConfig } from '../../src/plugins/openvswitch/config.js';
import type { OvsChange } from '../../src/plugins/openvswitch/plan.js';
import { OpenvswitchPlugin } from '../../src/plugins/openvswitch/plugin.js';
import type { OpenvswitchSection } from '../../src/plugins/openvswitch/schema.js';
import { testContext, testHost } from './plugin-host.js';

/**
 * The plugin as its definition makes it for the daemon (settings from its
 * schema's defaults, `socket` given), with shorter timings, started.
 */
export function startedPlugin(socket: string, vswitchdWaitMs?: number): OpenvswitchPlugin {
  const { host } = testHost<OpenvswitchConfig>(openvswitchPlugin, { config: { socket } });
  const plugin = new OpenvswitchPlugin(host, {
    callTimeoutMs: 5_000,
    vswitchdWaitMs,
    backoff: { initialMs: 50, maxMs: 500 },
  });
  void plugin.start();
  return plugin;
}

export interface ApplyRun {
  plan: OvsChange[];
  outcomes: ResourceOutcome[];
  /** Milliseconds the apply took: transaction, ovs-vswitchd catching up, verification. */
  applyMs: number;
}

/** What the engine does for one job: observe, plan, apply the changes that are not 'none'. */
export async function applyOnce(
  plugin: OpenvswitchPlugin,
  desired: OpenvswitchSection,
): Promise<ApplyRun> {
  const ctx = testContext();
  const observed = await plugin.observe(desired, ctx);
  const plan = plugin.plan(desired, observed);
  const changes = plan.filter((change) => change.action !== 'none');
  const started = Date.now();
  const outcomes = await plugin.apply(changes, desired, observed, ctx);
  return { plan, outcomes, applyMs: Date.now() - started };
}

/** The engine's verification: observe again, and the plan must be all 'none'. */
export async function assertConverged(
  plugin: OpenvswitchPlugin,
  desired: OpenvswitchSection,
): Promise<void> {
  const ctx = testContext();
  const plan = plugin.plan(desired, await plugin.observe(desired, ctx));
  assert.deepEqual(
    plan.filter((change) => change.action !== 'none').map((c) => `${c.resource} ${c.action}`),
    [],
  );
}

export function summary(run: ApplyRun): string[] {
  return run.outcomes.map((o) => `${o.resource} ${o.action} ${o.outcome}`);
}
