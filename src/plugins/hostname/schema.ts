import { Type, type Static } from '@sinclair/typebox';
import { SCHEMA_BASE_URL } from '../../document/document.js';

/**
 * A static hostname as hostname1 accepts it (systemd's hostname_is_valid), but
 * stricter: lowercase only, the canonical form of a case-insensitive DNS name.
 * Dot-separated labels of a-z, 0-9 and '-', none empty, none starting or ending
 * with '-', at most 63 characters each; at most 64 in all (Linux's HOST_NAME_MAX).
 */
export const HOSTNAME_PATTERN =
  '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';

/** Printable text: no C0 or C1 control characters (hostname1 refuses them too). */
export const PRINTABLE_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$';

export const StaticHostname = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: HOSTNAME_PATTERN,
  description: 'The static hostname (/etc/hostname), e.g. "web-01".',
});

export const PrettyHostname = Type.String({
  maxLength: 255,
  pattern: PRINTABLE_PATTERN,
  description: 'The pretty hostname, free text for humans, e.g. "Web server 1"; "" clears it.',
});

export const HostnameSection = Type.Object(
  {
    static: Type.Optional(StaticHostname),
    pretty: Type.Optional(PrettyHostname),
  },
  {
    $id: `${SCHEMA_BASE_URL}/hostname.schema.json`,
    title: 'op-dbus hostname plugin',
    description:
      'The host names, through org.freedesktop.hostname1. A field left out is left alone.',
    additionalProperties: false,
  },
);

export type HostnameSection = Static<typeof HostnameSection>;
