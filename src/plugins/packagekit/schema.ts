import { Type, type Static } from '@sinclair/typebox';
import { SCHEMA_BASE_URL } from '../../document/document.js';

/**
 * Package names as Debian and RPM distributions allow them: letters, digits and
 * + . _ - , starting with a letter or digit. No shell metacharacters, no spaces.
 */
export const PACKAGE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9+._-]{0,127}$';
/** Versions as dpkg and rpm write them (epoch:upstream-revision, ~ and + included). */
export const PACKAGE_VERSION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,127}$';

export const Ensure = Type.Unsafe<'installed' | 'removed' | 'latest'>({
  type: 'string',
  enum: ['installed', 'removed', 'latest'],
  description:
    'installed: present (any version unless pinned); removed: absent; latest: present at the newest version available.',
});

export const PackageSpec = Type.Object(
  {
    ensure: Ensure,
    version: Type.Optional(
      Type.String({
        pattern: PACKAGE_VERSION_PATTERN,
        description: 'Pin this exact version; only with ensure "installed".',
      }),
    ),
    autoremove: Type.Optional(
      Type.Boolean({
        description:
          'Only with ensure "removed": also remove the packages it pulled in that nothing else needs (apt autoremove).',
      }),
    ),
  },
  {
    additionalProperties: false,
    // A pinned version contradicts "removed" and "latest"; autoremove is about removal.
    dependentSchemas: {
      version: { properties: { ensure: { const: 'installed' } } },
      autoremove: { properties: { ensure: { const: 'removed' } } },
    },
  },
);

export const PackageKitSection = Type.Object(
  {
    packages: Type.Record(Type.String({ pattern: PACKAGE_NAME_PATTERN }), PackageSpec, {
      description: 'Packages by name.',
      additionalProperties: false,
    }),
  },
  {
    $id: `${SCHEMA_BASE_URL}/packagekit.schema.json`,
    title: 'op-dbus packagekit plugin',
    additionalProperties: false,
  },
);

export type PackageSpec = Static<typeof PackageSpec>;
export type PackageKitSection = Static<typeof PackageKitSection>;

/** The plugin's daemon settings (`plugins.packagekit` in the configuration file). */
export const PackageKitConfig = Type.Object(
  {
    bus: Type.String({
      minLength: 1,
      description: "Where PackageKit is: 'system' (default) or a D-Bus address.",
    }),
    onlyTrusted: Type.Boolean({
      description:
        "Refuse packages from unsigned repositories (PackageKit's only-trusted flag, as pkcon). " +
        'false only for test backends and local unsigned archives.',
    }),
    dpkgStatusFile: Type.String({
      minLength: 1,
      description: "dpkg's status file, watched for changes made with dpkg or apt-get directly.",
    }),
    maxTransactions: Type.Integer({
      minimum: 2,
      maximum: 16,
      description:
        "The daemon's own PackageKit transactions open at once; reads (Plan, Query, Verify) " +
        'never take the last one, so a job never waits behind them.',
    }),
  },
  { additionalProperties: false },
);
export type PackageKitConfig = Static<typeof PackageKitConfig>;

export const PACKAGEKIT_DEFAULTS: PackageKitConfig = {
  bus: 'system',
  onlyTrusted: true,
  dpkgStatusFile: '/var/lib/dpkg/status',
  maxTransactions: 2,
};
