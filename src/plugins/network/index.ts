import { definePlugin } from '../definition.js';
import { NETWORK_CONFIG_DEFAULTS, NetworkConfig } from './config.js';
import { NetworkPlugin } from './plugin.js';
import { NetworkSection } from './schema.js';

export const networkPlugin = definePlugin<NetworkConfig>({
  name: 'network',
  summary:
    "Interfaces, bridges, addresses, routes and DNS in nmstate's state format, through NetworkManager, with a checkpoint around every change.",
  schema: NetworkSection,
  config: { schema: NetworkConfig, defaults: NETWORK_CONFIG_DEFAULTS },
  // An apply waits for activations (a bridge ~2 s; activationTimeoutMs at most
  // each) and, when it does not verify, for a rollback and re-activation (~2.3 s
  // measured; clean-up calls 30 s at most). Minutes, not the default 30: the
  // checkpoint's own rollback timeout is set just past this deadline, so a daemon
  // that dies mid-apply has its half-made change undone by NetworkManager within
  // about six minutes even if it never starts again.
  deadlines: { applyMs: 5 * 60_000 },
  create: (host) => new NetworkPlugin(host),
});
