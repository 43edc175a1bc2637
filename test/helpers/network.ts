import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { connectBus, type MessageBus } from '../../src/dbus/bus.js';
import { BusConnection } from '../../src/dbus/bus-connection.js';
import type { NetworkContext } from '../../src/plugins/network/apply.js';
import type { PlannedChange, ResourceOutcome } from '../../src/plugins/network/model.js';
import { NetworkPlugin, type NetworkPluginOptions } from '../../src/plugins/network/plugin.js';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import { startNetworkManager, type NetworkManagerHarness } from '../harness/network-manager.js';

/** A plugin instance on its own bus connection (a daemon's life: start, use, stop). */
export interface PluginHandle {
  plugin: NetworkPlugin;
  connection: BusConnection;
  bus: MessageBus;
  close(): Promise<void>;
}

/** NetworkManager in its namespace, a state folder, and plugins made against them. */
export interface NetworkFixture {
  nm: NetworkManagerHarness;
  stateDir: string;
  log: Logger;
  /** A new plugin, started (as a daemon starting would). */
  open(options?: Partial<NetworkPluginOptions>): Promise<PluginHandle>;
  stop(): Promise<void>;
}

export function context(log: Logger, timeoutMs = 60_000): NetworkContext {
  return {
    log,
    signal: AbortSignal.timeout(timeoutMs),
    deadline: Date.now() + timeoutMs,
    progress: () => undefined,
  };
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
    async open(options = {}) {
      const bus = await connectBus(nm.bus.address);
      const connection = new BusConnection(bus, log);
      const plugin = new NetworkPlugin({
        connect: () => Promise.resolve(connection),
        log,
        stateDir,
        ...options,
      });
      await plugin.start();
      const handle: PluginHandle = {
        plugin,
        connection,
        bus,
        async close() {
          handles.delete(handle);
          await plugin.stop();
          connection.stop();
          bus.disconnect();
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
