import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_PREFIX, NAME_PATTERN, PREFIX_PATTERN, checkName } from './keys.js';

const Path = (description: string) => Type.String({ minLength: 1, pattern: '^/', description });

/**
 * The daemon's `fleet` section (absent: no fleet, the daemon is what it was).
 * Secrets stay out of this file: a password comes from `passwordFile`, and TLS keys
 * are files; the configuration file may be readable by more than root.
 */
export const FleetSettingsSchema = Type.Object(
  {
    endpoints: Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$' }), {
      minItems: 1,
      uniqueItems: true,
      description: 'etcd client URLs; all http:// or all https://.',
    }),
    prefix: Type.Optional(
      Type.String({
        pattern: PREFIX_PATTERN,
        description: `Key prefix (default ${DEFAULT_PREFIX}).`,
      }),
    ),
    nodeId: Type.Optional(
      Type.String({ pattern: NAME_PATTERN, description: 'This node (default: /etc/machine-id).' }),
    ),
    groups: Type.Optional(
      Type.Array(Type.String({ pattern: NAME_PATTERN }), {
        uniqueItems: true,
        description: 'Groups this node takes, in precedence order: a later group wins.',
      }),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Path('CA certificate (PEM) that signed the etcd members.'),
          cert: Type.Optional(Path('Client certificate (PEM).')),
          key: Type.Optional(Path('Client key (PEM).')),
        },
        { additionalProperties: false },
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 128 }),
          passwordFile: Path('File holding the etcd password (first line).'),
        },
        { additionalProperties: false },
      ),
    ),
    requestTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 100, description: 'Deadline of one etcd request.' }),
    ),
    leaseTtlSeconds: Type.Optional(
      Type.Integer({ minimum: 2, maximum: 3600, description: 'How soon a dead node disappears.' }),
    ),
    reconnectMinMs: Type.Optional(Type.Integer({ minimum: 10 })),
    reconnectMaxMs: Type.Optional(Type.Integer({ minimum: 10 })),
  },
  { additionalProperties: false },
);

export type FleetSettingsFile = Static<typeof FleetSettingsSchema>;

export const FLEET_DEFAULTS = {
  prefix: DEFAULT_PREFIX,
  groups: [] as string[],
  requestTimeoutMs: 5_000,
  leaseTtlSeconds: 10,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
} as const;

/** Settings after defaults, with the node id resolved. */
export interface FleetSettings {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly nodeId: string;
  readonly groups: readonly string[];
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
  readonly auth?: { readonly username: string; readonly passwordFile: string };
  readonly requestTimeoutMs: number;
  readonly leaseTtlSeconds: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

export class FleetConfigError extends Error {}

/** What the schema cannot say: mixed schemes, half a client certificate, min > max. */
export function checkFleetSemantics(file: FleetSettingsFile): void {
  const secure = file.endpoints.filter((url) => url.startsWith('https://')).length;
  if (secure !== 0 && secure !== file.endpoints.length) {
    throw new FleetConfigError('fleet.endpoints: all https:// or all http://, not a mix');
  }
  if (file.tls && (file.tls.cert === undefined) !== (file.tls.key === undefined)) {
    throw new FleetConfigError('fleet.tls: cert and key go together');
  }
  if (file.tls && secure === 0) {
    throw new FleetConfigError('fleet.tls is set but the endpoints are http://');
  }
  const min = file.reconnectMinMs ?? FLEET_DEFAULTS.reconnectMinMs;
  const max = file.reconnectMaxMs ?? FLEET_DEFAULTS.reconnectMaxMs;
  if (min > max) throw new FleetConfigError('fleet.reconnectMinMs is above reconnectMaxMs');
}

/** The machine id (systemd's /etc/machine-id: 32 hex digits) as the default node id. */
export async function readMachineId(path = '/etc/machine-id'): Promise<string> {
  const text = (await readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{32}$/.test(text)) {
    throw new FleetConfigError(`${path} does not hold a machine id; set fleet.nodeId`);
  }
  return text;
}

/** Defaults, then the file; the node id from the file or the machine id. */
export async function resolveFleetSettings(
  file: FleetSettingsFile,
  machineId: () => Promise<string> = () => readMachineId(),
): Promise<FleetSettings> {
  checkFleetSemantics(file);
  const nodeId = file.nodeId ?? checkName('node id', await machineId());
  return {
    ...FLEET_DEFAULTS,
    ...file,
    nodeId,
    groups: file.groups ?? [],
  };
}
