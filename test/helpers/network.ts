import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { MessageBus } from '../../src/dbus/bus.js';
import type {
  PlannedChange,
  PluginContext,
  ResourceOutcome,
  WorkPriority,
} from '../../src/engine/plugin.js';
import type { NetworkConfig } from '../../src/plugins/network/config.js';
import { networkPlugin } from '../../src/plugins/network/index.js';
import type { NetworkPlugin } from '../../src/plugins/network/plugin.js';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import { startNetworkManager, type NetworkManagerHarness } from '../harness/network-manager.js';
import { testContext, testHost } from './plugin-host.js';

/** A plugin instance as the daemon makes one, with its own bus connections (a daemon's life). */
export interface PluginHandle {
  plugin: NetworkPlugin;
  /** The plugin's own connection to NetworkManager's bus. */
  bus: MessageBus;
  close(): Promise<void>;
}

/** NetworkManager in its namespace, a state folder, and plugins made against them. */
export interface NetworkFixture {
  nm: NetworkManagerHarness;
  stateDir: string;
  log: Logger;
  /** A new plugin, started (as a daemon starting would), with these settings over the defaults. */
  open(config?: Partial<NetworkConfig>): Promise<PluginHandle>;
  stop(): Promise<void>;
}

/** A context as the engine gives one: job work unless said otherwise. */
export function context(
  log: Logger,
  timeoutMs = 60_000,
  priority: WorkPriority = 'job',
): PluginContext {
  return { ...testContext(AbortSignal.timeout(timeoutMs), priority), log };
}

export async function startNetworkFixture(): Promise<NetworkFixture> {
  const nm = await startNetworkManager();
  const stateDir = await mkdtemp(join(tmpdir(), 'opdbus-network-state-'));
  const log = pino({ level: process.env.OPDBUS_TEST_LOG ?? 'silent' });
  const handles = new Set<PluginHandle>();
  return {
    nm,
    stateDir,
    log,
    async open(config = {}) {
      const made = testHost<NetworkConfig>(networkPlugin, {
        config,
        systemBus: nm.bus.address,
        stateDir,
      });
      const host = { ...made.host, log };
      const plugin = networkPlugin.create(host) as NetworkPlugin;
      await plugin.start();
      const { bus } = await host.connect('system');
      const handle: PluginHandle = {
        plugin,
        bus,
        async close() {
          handles.delete(handle);
          await plugin.stop();
          await made.stop();
        },
      };
      handles.add(handle);
      return handle;
    },
    async stop() {
      for (const handle of [...handles]) await handle.close();
      await nm.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** The engine's part, once: observe, plan, apply what is not 'none'. */
export async function applyOnce(
  plugin: NetworkPlugin,
  desired: NetworkSection,
  log: Logger,
): Promise<{ planned: PlannedChange[]; outcomes: ResourceOutcome[] }> {
  const observed = await plugin.observe(desired, context(log));
  const planned = plugin.plan(desired, observed);
  const todo = planned.filter((change) => change.action !== 'none');
  const outcomes =
    todo.length === 0 ? [] : await plugin.apply(todo, desired, observed, context(log));
  return { planned, outcomes };
}

/** The plan for `desired` now, without the 'none' changes. */
export async function pendingChanges(
  plugin: NetworkPlugin,
  desired: NetworkSection,
  log: Logger,
): Promise<PlannedChange[]> {
  const observed = await plugin.observe(desired, context(log));
  return plugin.plan(desired, observed).filter((change) => change.action !== 'none');
}

/** Fails with the outcomes' own words unless every one is 'changed' (and there is at least one). */
export function assertAllChanged(outcomes: readonly ResourceOutcome[]): void {
  const failed = outcomes.filter((outcome) => outcome.outcome !== 'changed');
  if (outcomes.length === 0 || failed.length > 0) {
    throw new Error(`expected every change made: ${JSON.stringify(outcomes)}`);
  }
}
