import { Type, type Static } from '@sinclair/typebox';

/** The plugin's daemon settings (`plugins.network` in the configuration file). */
export const NetworkConfig = Type.Object(
  {
    bus: Type.String({
      minLength: 1,
      description: "Where NetworkManager is: 'system' (default) or a D-Bus address.",
    }),
    persistence: Type.Unsafe<'to-disk' | 'in-memory'>({
      type: 'string',
      enum: ['to-disk', 'in-memory'],
      description:
        'to-disk (default): profiles survive a reboot; in-memory: they are gone when NetworkManager restarts.',
    }),
    activationTimeoutMs: Type.Integer({
      minimum: 1000,
      maximum: 240_000,
      description:
        'How long one activation may take, from ActivateConnection to "activated" (default 60000; at most 4 minutes, within the plugin\'s 5-minute apply deadline).',
    }),
  },
  { additionalProperties: false },
);
export type NetworkConfig = Static<typeof NetworkConfig>;

export const NETWORK_CONFIG_DEFAULTS: NetworkConfig = {
  bus: 'system',
  persistence: 'to-disk',
  activationTimeoutMs: 60_000,
};
