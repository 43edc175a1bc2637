import { Type, type Static } from '@sinclair/typebox';

export const DEFAULT_OVSDB_SOCKET = '/run/openvswitch/db.sock';

/** The plugin's section of the daemon's configuration (not of a document). */
export const OpenvswitchConfig = Type.Object(
  {
    socket: Type.String({
      pattern: '^/',
      // sun_path is 108 bytes with its terminating NUL.
      maxLength: 107,
      description: `ovsdb-server's unix socket (default ${DEFAULT_OVSDB_SOCKET}).`,
    }),
  },
  { additionalProperties: false },
);

export type OpenvswitchConfig = Static<typeof OpenvswitchConfig>;

export const OPENVSWITCH_CONFIG_DEFAULTS: OpenvswitchConfig = { socket: DEFAULT_OVSDB_SOCKET };
