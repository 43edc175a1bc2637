import { Type, type Static } from '@sinclair/typebox';
import { ARMORED_PUBLIC_KEY_PATTERN, inspectArmoredPublicKey } from './openpgp-key.js';

/**
 * A repository's name in the document: it becomes the file name
 * `op-dbus-<name>.sources`, so it has no `/`, no `.` and nothing apt would
 * refuse in a sources.list.d file name.
 */
export const REPOSITORY_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

/** A path segment: never `.` or `..`, nothing a deb822 list or apt's `$(ARCH)` would split or expand. */
const SEGMENT = '(?!\\.\\.?(?:/|$))[A-Za-z0-9._~%+,;=:@!&-]+';
const HOST =
  '(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+\\])';

/**
 * Absolute URIs of the apt methods op-dbus accepts: http and https (with a
 * host, an optional port, no user:password: credentials belong in
 * /etc/apt/auth.conf.d, not in a document) and file (a local archive,
 * `file:///path`). Not cdrom (apt-cdrom keeps its own database of media), ftp
 * (unauthenticated, deprecated by apt), copy, or mirror+/tor+ transports.
 */
export const REPOSITORY_URI_PATTERN = `^(?:https?://${HOST}(?::[0-9]{1,5})?(?:/(?:${SEGMENT})?)*|file://(?:/${SEGMENT})+/?)$`;

/**
 * A suite: a distribution name (`bookworm`, `bookworm-security`, `stable`) or,
 * for a flat repository, a path relative to the URI that ends in `/`
 * (`./`, `/`, `stable/`); then the repository has no components.
 */
const SUITE_NAME = '[A-Za-z0-9][A-Za-z0-9._~+-]{0,99}';
export const FLAT_SUITE_PATTERN = `^(?:\\./|/|(?:${SEGMENT}/)+)$`;
export const SUITE_PATTERN = `^(?:${SUITE_NAME}|\\./|/|(?:${SEGMENT}/)+)$`;
export const COMPONENT_PATTERN =
  '^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}(?:/[A-Za-z0-9][A-Za-z0-9._+-]{0,99})*$';
export const ARCHITECTURE_PATTERN = '^[a-z0-9][a-z0-9-]{0,31}$';

/**
 * An absolute path to a keyring file: segments of letters, digits and
 * `. _ + @ : -`, none starting with a dot (so no `.` or `..`, no hidden files).
 * apt reads a file ending in `.asc` as armored and any other as a binary
 * keyring (an armored file named `.gpg` fails with NO_PUBKEY).
 */
export const KEYRING_PATH_PATTERN =
  '/(?:[A-Za-z0-9_+@:-][A-Za-z0-9._+@:-]{0,254}/)*[A-Za-z0-9_+@:-][A-Za-z0-9._+@:-]{0,254}';
export const SIGNED_BY_PATTERN = `^(?:${KEYRING_PATH_PATTERN}|${ARMORED_PUBLIC_KEY_PATTERN})$`;

const list = (item: Parameters<typeof Type.String>[0], description: string) =>
  Type.Array(Type.String(item), { minItems: 1, maxItems: 32, uniqueItems: true, description });

export const RepositoryEnsure = Type.Unsafe<'present' | 'absent'>({
  type: 'string',
  enum: ['present', 'absent'],
  default: 'present',
  description:
    'present: op-dbus writes /etc/apt/sources.list.d/op-dbus-NAME.sources; absent: op-dbus removes that file (never one it did not write).',
});

export const RepositorySpec = Type.Object(
  {
    ensure: Type.Optional(RepositoryEnsure),
    types: Type.Optional(
      Type.Array(Type.Unsafe<'deb' | 'deb-src'>({ type: 'string', enum: ['deb', 'deb-src'] }), {
        minItems: 1,
        uniqueItems: true,
        default: ['deb'],
        description: 'deb (binary packages) and/or deb-src (sources). Default ["deb"].',
      }),
    ),
    uris: Type.Optional(
      list(
        {
          pattern: REPOSITORY_URI_PATTERN,
          maxLength: 2048,
          title: 'an absolute http, https or file URI',
        },
        'Where the archive is: absolute http://, https:// or file:/// URIs.',
      ),
    ),
    suites: Type.Optional(
      list(
        {
          pattern: SUITE_PATTERN,
          maxLength: 256,
          title: 'a suite name, or a path ending in / for a flat repository',
        },
        'Distributions (bookworm, bookworm-security), or one path ending in "/" for a flat repository.',
      ),
    ),
    components: Type.Optional(
      list(
        { pattern: COMPONENT_PATTERN, maxLength: 256, title: 'a component name' },
        'Archive areas (main, pve-no-subscription); none for a flat repository.',
      ),
    ),
    signed_by: Type.Optional(
      Type.String({
        pattern: SIGNED_BY_PATTERN,
        maxLength: 65536,
        title:
          'an ASCII-armored OpenPGP PUBLIC KEY BLOCK (LF line ends) or an absolute path to a keyring file',
        description:
          'The only key(s) apt accepts for this repository: an ASCII-armored public key block (embedded in the file) or an absolute path to a keyring file (binary, or armored when it ends in .asc).',
      }),
    ),
    enabled: Type.Optional(
      Type.Boolean({ default: true, description: 'false: the file stays, apt ignores it.' }),
    ),
    architectures: Type.Optional(
      list(
        { pattern: ARCHITECTURE_PATTERN, title: 'a Debian architecture name' },
        'Only these architectures (amd64, arm64, ...); default: all the machine uses.',
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'A third-party apt repository, written as one deb822 .sources file.',
    allOf: [
      // A present repository needs to say where it is and what signs it.
      {
        if: {
          type: 'object',
          properties: { ensure: { const: 'absent' } },
          required: ['ensure'],
        },
        else: {
          type: 'object',
          // ajv's strictRequired wants the properties named here too; their schemas are above.
          properties: { uris: true, suites: true, signed_by: true },
          required: ['uris', 'suites', 'signed_by'],
        },
      },
      // apt: a flat suite (a path ending in /) takes no components; a named suite needs some.
      {
        if: {
          type: 'object',
          properties: { suites: { type: 'array', contains: { type: 'string', pattern: '/$' } } },
          required: ['suites'],
        },
        then: {
          type: 'object',
          properties: {
            suites: {
              type: 'array',
              items: {
                type: 'string',
                pattern: FLAT_SUITE_PATTERN,
                title: 'a path ending in "/", like every suite of a flat repository',
              },
            },
            components: {
              type: 'array',
              maxItems: 0,
              title: 'empty: a flat repository (suite ending in "/") has no components',
            },
          },
        },
        else: {
          if: {
            type: 'object',
            properties: { ensure: { const: 'absent' } },
            required: ['ensure'],
          },
          else: { type: 'object', properties: { components: true }, required: ['components'] },
        },
      },
    ],
  },
);

/** Repositories by name; the `repositories` member of the packagekit section. */
export const RepositoriesMap = Type.Record(
  Type.String({ pattern: REPOSITORY_NAME_PATTERN }),
  RepositorySpec,
  {
    description:
      'Third-party apt repositories by name (lower-case letters, digits and -), each written to /etc/apt/sources.list.d/op-dbus-NAME.sources.',
    additionalProperties: false,
  },
);

export type RepositorySpec = Static<typeof RepositorySpec>;
export type RepositoriesMap = Static<typeof RepositoriesMap>;

/** A present repository with its defaults filled in: what op-dbus writes. */
export interface Repository {
  types: ('deb' | 'deb-src')[];
  uris: string[];
  suites: string[];
  components: string[];
  signedBy: string;
  enabled: boolean;
  architectures: string[] | undefined;
}

/**
 * Fills in the defaults of a schema-valid present spec; undefined for `absent`.
 * An embedded key is normalised to end with exactly one newline.
 */
export function repositoryOf(spec: RepositorySpec): Repository | undefined {
  if (spec.ensure === 'absent') return undefined;
  const signedBy = spec.signed_by ?? '';
  return {
    types: spec.types ?? ['deb'],
    uris: spec.uris ?? [],
    suites: spec.suites ?? [],
    components: spec.components ?? [],
    signedBy: signedBy.startsWith('-----') ? `${signedBy.trimEnd()}\n` : signedBy,
    enabled: spec.enabled ?? true,
    architectures: spec.architectures,
  };
}

/**
 * What the schema's pattern cannot see in embedded keys: base64 that does not
 * decode, a failed CRC, secret key material, packets that are not a public
 * key. One problem per repository as '<at>/<name>/signed_by: ...', for the
 * validator to report with the schema's own problems (InvalidDocument). The
 * plan refuses such a key too ('invalid-key'), so nothing depends on this
 * being wired in.
 */
export function repositoryKeyProblems(repositories: RepositoriesMap, at: string): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(repositories)) {
    if (spec.ensure === 'absent' || !spec.signed_by?.startsWith('-----')) continue;
    const inspection = inspectArmoredPublicKey(spec.signed_by);
    if (!inspection.ok) problems.push(`${at}/${name}/signed_by: ${inspection.problem}`);
  }
  return problems;
}
