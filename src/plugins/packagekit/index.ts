import type { PluginDefinition } from '../definition.js';
import { PackageKitPlugin } from './plugin.js';
import { PackageKitSection } from './schema.js';

export const packagekitPlugin: PluginDefinition = {
  name: 'packagekit',
  schema: PackageKitSection,
  create: (deps) =>
    new PackageKitPlugin({
      bus: deps.systemBus,
      router: deps.systemRouter,
      log: deps.log,
      ...deps.settings.packagekit,
    }),
};
