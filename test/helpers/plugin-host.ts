import { pino, type Logger } from 'pino';
import { BusPool } from '../../src/daemon/bus-pool.js';
import type { EnginePlugin, PluginContext, WorkPriority } from '../../src/engine/plugin.js';
import { DEFAULT_DEADLINES } from '../../src/engine/step-context.js';
import type { PluginDefinition, PluginHost } from '../../src/plugins/definition.js';

export const silentLog: Logger = pino({ level: 'silent' });

/**
 * What the daemon gives a plugin, for tests that drive one plugin directly:
 * its settings (defaults unless given), a private pool of bus connections
 * ('system' is `systemBus` when given, else as for the daemon) and a state folder.
 */
export function testHost<Config>(
  definition: PluginDefinition,
  options: { config?: Partial<Config>; systemBus?: string; stateDir?: string } = {},
): { host: PluginHost<Config>; stop: () => Promise<void> } {
  const { config = {}, systemBus, stateDir = '/nonexistent' } = options;
  const buses = new BusPool(silentLog, () => undefined);
  return {
    host: {
      log: silentLog,
      config: { ...(definition.config?.defaults as Config), ...config },
      connect: (address) => buses.connect(address === 'system' && systemBus ? systemBus : address),
      stateDir,
    },
    stop: () => buses.stopAll(),
  };
}

/** A plugin context as the engine makes one, with a generous deadline. */
export function testContext(
  signal: AbortSignal = new AbortController().signal,
  priority: WorkPriority = 'job',
): PluginContext {
  return {
    log: silentLog,
    signal,
    deadline: Date.now() + 60_000,
    priority,
    progress: () => undefined,
  };
}

/** A plugin instance as the engine holds one. */
export function enginePlugin(
  definition: PluginDefinition,
  host: PluginHost<unknown>,
): EnginePlugin {
  return {
    name: definition.name,
    instance: definition.create(host),
    deadlines: { ...DEFAULT_DEADLINES, ...definition.deadlines },
  };
}
