import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { BusConnection } from '../dbus/bus-connection.js';
import type { AnyPlugin, PluginDeadlines } from '../engine/plugin.js';

/**
 * What the daemon gives a plugin when it makes one. Everything a plugin needs
 * arrives here; there are no globals and no settings singleton.
 */
export interface PluginHost<Config> {
  /** Already a child logger with `plugin: NAME`. */
  log: Logger;
  /** The plugin's section of the daemon's configuration, validated by its own schema, defaults filled in. */
  config: Readonly<Config>;
  /**
   * A connection to a bus: 'system' (the daemon's own; honours
   * DBUS_SYSTEM_BUS_ADDRESS), 'user' ($XDG_RUNTIME_DIR/bus) or a D-Bus address.
   * Connections are shared per address and owned by the daemon; losing one
   * stops the daemon (systemd restarts it).
   */
  connect(address: string): Promise<BusConnection>;
  /** The daemon's state directory, for a plugin that must remember something across restarts. */
  stateDir: string;
}

/** The plugin's daemon configuration: a schema (validation and type) and its defaults. */
export interface PluginConfigSpec<Config> {
  schema: TSchema;
  defaults: Config;
}

/**
 * A plugin, declared once: its document key and section schema (enough to
 * validate documents and publish schemas without a bus), its configuration,
 * its engine-owned deadlines, and how to make an instance. Listed in
 * src/plugins/registry.ts; nothing else in src/ names a plugin.
 */
export interface PluginDefinition<Config = unknown> {
  name: string;
  /** The JSON Schema (TypeBox) of the plugin's document section. */
  schema: TSchema;
  /** One sentence for docs and `op-dbus --help`. */
  summary: string;
  config?: PluginConfigSpec<Config>;
  deadlines?: Partial<PluginDeadlines>;
  create(host: PluginHost<Config>): AnyPlugin;
}

/**
 * Declares a plugin with its configuration type checked against its defaults and
 * create(). The registry holds definitions with the type erased.
 */
export function definePlugin<Config>(definition: PluginDefinition<Config>): PluginDefinition {
  return definition;
}
