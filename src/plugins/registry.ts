import type { Logger } from 'pino';
import type { MessageBus } from '../dbus/bus.js';
import type { SignalRouter } from '../dbus/signal-router.js';
import type { AnyPlugin } from '../engine/plugin.js';
import { PackageKitPlugin } from './packagekit/plugin.js';

/** What every plugin may be given: its connection to the system's services. */
export interface PluginDependencies {
  systemBus: MessageBus;
  systemRouter: SignalRouter;
  log: Logger;
  settings: PluginSettings;
}

/** Daemon-level settings of the plugins (not part of any document). */
export interface PluginSettings {
  packagekit: { onlyTrusted: boolean };
}

/**
 * The one list of plugins, in the order they reconcile: packages first, because
 * a unit or a setting often comes with its package.
 */
export function createPlugins(deps: PluginDependencies): AnyPlugin[] {
  const plugins: AnyPlugin[] = [
    new PackageKitPlugin({
      bus: deps.systemBus,
      router: deps.systemRouter,
      log: deps.log,
      ...deps.settings.packagekit,
    }),
  ];
  checkNames(plugins);
  return plugins;
}

/** Empty or duplicate names would make documents ambiguous: fail at start, loudly. */
export function checkNames(plugins: readonly AnyPlugin[]): void {
  const seen = new Set<string>();
  for (const plugin of plugins) {
    if (!/^[a-z][a-z0-9_]*$/.test(plugin.name))
      throw new Error(`plugin name '${plugin.name}' is not a valid document key`);
    if (seen.has(plugin.name)) throw new Error(`two plugins are named '${plugin.name}'`);
    seen.add(plugin.name);
  }
}
