import type { AnyPlugin } from '../engine/plugin.js';
import type { PluginDefinition, PluginDependencies } from './definition.js';
import { packagekitPlugin } from './packagekit/index.js';
import { systemdPlugin } from './systemd/index.js';
import { hostnamePlugin } from './hostname/index.js';
import { timedatePlugin } from './timedate/index.js';
import { localePlugin } from './locale/index.js';

/**
 * The one list of plugins, in the order they reconcile: packages first, because
 * a unit or a setting often comes with its package.
 */
export const PLUGINS: readonly PluginDefinition[] = [
  packagekitPlugin,
  systemdPlugin,
  hostnamePlugin,
  timedatePlugin,
  localePlugin,
];

export function createPlugins(deps: PluginDependencies): AnyPlugin[] {
  checkNames(PLUGINS);
  return PLUGINS.map((definition) => definition.create(deps));
}

/** Empty or duplicate names would make documents ambiguous: fail at start, loudly. */
export function checkNames(plugins: readonly { name: string }[]): void {
  const seen = new Set<string>();
  for (const plugin of plugins) {
    if (!/^[a-z][a-z0-9_]*$/.test(plugin.name)) {
      throw new Error(`plugin name '${plugin.name}' is not a valid document key`);
    }
    if (seen.has(plugin.name)) throw new Error(`two plugins are named '${plugin.name}'`);
    seen.add(plugin.name);
  }
}
