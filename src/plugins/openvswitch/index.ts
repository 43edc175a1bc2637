import { definePlugin } from '../definition.js';
import { OPENVSWITCH_CONFIG_DEFAULTS, OpenvswitchConfig } from './config.js';
import { OpenvswitchPlugin } from './plugin.js';
import { OpenvswitchSection } from './schema.js';

export const openvswitchPlugin = definePlugin<OpenvswitchConfig>({
  name: 'openvswitch',
  summary: "Open vSwitch bridges and ports through OVSDB (RFC 7047) on ovsdb-server's socket.",
  schema: OpenvswitchSection,
  config: { schema: OpenvswitchConfig, defaults: OPENVSWITCH_CONFIG_DEFAULTS },
  // Reads come from the monitor's replica after one round trip: fast. An apply is
  // one transaction plus ovs-vswitchd applying it (measured: 0.2-0.4 s here);
  // apply.ts waits at most 15 s for ovs-vswitchd, within this deadline.
  deadlines: { readMs: 30_000, applyMs: 120_000 },
  // start() only begins connecting: the daemon starts where ovsdb-server is absent,
  // and the plugin's resources fail, retryable ("unavailable at <socket>"), until it comes.
  create: (host) => new OpenvswitchPlugin(host),
});
