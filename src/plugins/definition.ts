import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { MessageBus } from '../dbus/bus.js';
import type { SignalRouter } from '../dbus/signal-router.js';
import type { AnyPlugin } from '../engine/plugin.js';

/** What every plugin may be given: its connections to the system's services. */
export interface PluginDependencies {
  /** The daemon's own system bus: PackageKit, hostname1, timedate1, locale1 live there. */
  systemBus: MessageBus;
  systemRouter: SignalRouter;
  /** Where the systemd manager is: the system bus in production, a user manager's bus in tests. */
  systemdBus: MessageBus;
  systemdRouter: SignalRouter;
  log: Logger;
  settings: PluginSettings;
}

/** Daemon-level settings of the plugins (configuration, not part of any document). */
export interface PluginSettings {
  packagekit: { onlyTrusted: boolean; dpkgStatusFile: string };
}

/**
 * A plugin as the registry lists it: its document key and schema (enough to
 * validate documents and publish schemas without a bus), and how to build it.
 */
export interface PluginDefinition {
  name: string;
  schema: TSchema;
  create(deps: PluginDependencies): AnyPlugin;
}
