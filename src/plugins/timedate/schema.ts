import { Type, type Static } from '@sinclair/typebox';
import { SCHEMA_BASE_URL } from '../../document/document.js';

/**
 * A tz database name such as "Europe/Oslo" or "Etc/UTC": slash-separated parts of
 * letters, digits, '_', '+' and '-'. No dots, so no "..". Whether the zone exists
 * is timedate1's to say (the schema cannot see the tz database): an unknown zone
 * is a failed resource with timedate1's own message.
 */
export const TIMEZONE_PATTERN = '^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$';

export const Timezone = Type.String({
  maxLength: 255,
  pattern: TIMEZONE_PATTERN,
  description: 'The system time zone, a tz database name, e.g. "Europe/Oslo".',
});

export const Ntp = Type.Boolean({
  description: 'Whether network time synchronization (systemd-timesyncd) is on.',
});

export const TimedateSection = Type.Object(
  {
    timezone: Type.Optional(Timezone),
    ntp: Type.Optional(Ntp),
  },
  {
    $id: `${SCHEMA_BASE_URL}/timedate.schema.json`,
    title: 'op-dbus timedate plugin',
    description:
      'Time zone and NTP, through org.freedesktop.timedate1. A field left out is left alone.',
    additionalProperties: false,
  },
);

export type TimedateSection = Static<typeof TimedateSection>;
