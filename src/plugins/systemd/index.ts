import { definePlugin } from '../definition.js';
import { SystemdPlugin } from './plugin.js';
import { SystemdConfig, SystemdSection } from './schema.js';

export const systemdPlugin = definePlugin<SystemdConfig>({
  name: 'systemd',
  summary: 'Units through the systemd manager (org.freedesktop.systemd1).',
  schema: SystemdSection,
  config: { schema: SystemdConfig, defaults: { bus: 'system' } },
  // Longer than systemd's own default TimeoutStartSec (90 s): systemd times a hung
  // unit out first and says why; this only ends a job that never ends.
  deadlines: { applyMs: 10 * 60_000 },
  create: (host) => new SystemdPlugin(host),
});
