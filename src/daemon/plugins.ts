import type { Logger } from 'pino';
import type { EnginePlugin } from '../engine/plugin.js';
import { DEFAULT_DEADLINES } from '../engine/step-context.js';
import type { PluginDefinition } from '../plugins/definition.js';
import type { BusPool } from './bus-pool.js';
import type { PluginSettings } from './config.js';

/**
 * Makes every registered plugin with what its definition asks for: its own
 * settings, a logger, shared bus connections, the state directory, and the
 * engine's deadlines (its own where it declares them). Knows no plugin by name.
 */
export function createPlugins(
  definitions: readonly PluginDefinition[],
  settings: PluginSettings,
  deps: { log: Logger; buses: BusPool; stateDir: string },
): EnginePlugin[] {
  return definitions.map((definition) => ({
    name: definition.name,
    deadlines: { ...DEFAULT_DEADLINES, ...definition.deadlines },
    instance: definition.create({
      log: deps.log.child({ plugin: definition.name }),
      config: settings[definition.name] ?? definition.config?.defaults ?? {},
      connect: (address) => deps.buses.connect(address),
      stateDir: deps.stateDir,
    }),
  }));
}
