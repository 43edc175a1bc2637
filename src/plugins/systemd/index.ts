import type { PluginDefinition } from '../definition.js';
import { SystemdPlugin } from './plugin.js';
import { SystemdSection } from './schema.js';

export const systemdPlugin: PluginDefinition = {
  name: 'systemd',
  schema: SystemdSection,
  create: (deps) =>
    new SystemdPlugin({ bus: deps.systemdBus, router: deps.systemdRouter, log: deps.log }),
};
