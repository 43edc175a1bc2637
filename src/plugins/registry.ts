import { Type, type TSchema } from '@sinclair/typebox';
import type { PluginDefinition } from './definition.js';
import { packagekitPlugin } from './packagekit/index.js';
import { networkPlugin } from './network/index.js';
import { systemdPlugin } from './systemd/index.js';
import { openvswitchPlugin } from './openvswitch/index.js';
import { hostnamePlugin } from './hostname/index.js';
import { timedatePlugin } from './timedate/index.js';
import { localePlugin } from './locale/index.js';

/**
 * The one list of plugins, in the order they reconcile: packages first, because
 * a unit or a setting often comes with its package. Adding a plugin is its
 * folder, one line here, and its docs.
 */
export const PLUGINS: readonly PluginDefinition[] = checkNames([
  packagekitPlugin,
  networkPlugin, // after packages (NetworkManager may be one), before units that use its links
  systemdPlugin,
  openvswitchPlugin,
  hostnamePlugin,
  timedatePlugin,
  localePlugin,
]);

/** Empty or duplicate names would make documents ambiguous: fail at start, loudly. */
export function checkNames<T extends { name: string }>(plugins: readonly T[]): readonly T[] {
  const seen = new Set<string>();
  for (const plugin of plugins) {
    if (!/^[a-z][a-z0-9_]*$/.test(plugin.name)) {
      throw new Error(`plugin name '${plugin.name}' is not a valid document key`);
    }
    if (seen.has(plugin.name)) throw new Error(`two plugins are named '${plugin.name}'`);
    seen.add(plugin.name);
  }
  return plugins;
}

/**
 * The `plugins` section of the daemon's configuration file: one optional object
 * per plugin that has settings, each validated by that plugin's own schema.
 */
export function pluginsConfigSchema(plugins: readonly PluginDefinition[]): TSchema {
  const sections: Record<string, TSchema> = {};
  for (const plugin of plugins) {
    if (plugin.config) sections[plugin.name] = Type.Optional(plugin.config.schema);
  }
  return Type.Object(sections, {
    additionalProperties: false,
    description: "Each plugin's own settings; see docs/operations.md.",
  });
}
