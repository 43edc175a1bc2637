import { definePlugin } from '../definition.js';
import { PackageKitPlugin } from './plugin.js';
import { PACKAGEKIT_DEFAULTS, PackageKitConfig, PackageKitSection } from './schema.js';

export const packagekitPlugin = definePlugin<PackageKitConfig>({
  name: 'packagekit',
  summary: 'Packages through PackageKit (org.freedesktop.PackageKit).',
  schema: PackageKitSection,
  config: { schema: PackageKitConfig, defaults: PACKAGEKIT_DEFAULTS },
  // Installing a large package set (proxmox-ve pulls in hundreds) takes a while.
  deadlines: { applyMs: 60 * 60_000 },
  create: (host) => new PackageKitPlugin(host),
});
