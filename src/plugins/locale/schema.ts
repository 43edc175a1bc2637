import { Type, type Static, type TOptional, type TString } from '@sinclair/typebox';
import { SCHEMA_BASE_URL } from '../../document/document.js';

/** The variables locale1 manages, in locale.conf's order. */
export const LOCALE_VARIABLES = [
  'LANG',
  'LANGUAGE',
  'LC_CTYPE',
  'LC_NUMERIC',
  'LC_TIME',
  'LC_COLLATE',
  'LC_MONETARY',
  'LC_MESSAGES',
  'LC_PAPER',
  'LC_NAME',
  'LC_ADDRESS',
  'LC_TELEPHONE',
  'LC_MEASUREMENT',
  'LC_IDENTIFICATION',
] as const;

export type LocaleVariable = (typeof LOCALE_VARIABLES)[number];

/** A locale name ("en_US.UTF-8", "de_DE@euro") or, for LANGUAGE, a ':' list ("en_US:en"). */
export const LOCALE_VALUE_PATTERN = '^[A-Za-z0-9_.@:-]+$';

export const LocaleValue = Type.String({
  maxLength: 255,
  pattern: LOCALE_VALUE_PATTERN,
  description: 'A locale name such as "en_US.UTF-8" (LANGUAGE: a colon-separated list).',
});

const variables = Object.fromEntries(
  LOCALE_VARIABLES.map((name) => [name, Type.Optional(LocaleValue)]),
) as Record<LocaleVariable, TOptional<TString>>;

export const LocaleSection = Type.Object(variables, {
  $id: `${SCHEMA_BASE_URL}/locale.schema.json`,
  title: 'op-dbus locale plugin',
  description:
    'System locale variables, through org.freedesktop.locale1. Variables left out are left as they are.',
  additionalProperties: false,
});

export type LocaleSection = Static<typeof LocaleSection>;
