import { readFile } from 'node:fs/promises';
import { Etcd3, type IOptions } from 'etcd3';
import { boundedText, errorMessage } from '../errors.js';
import type { FleetSettings } from './config.js';

type ConnectionSettings = Pick<FleetSettings, 'endpoints' | 'tls' | 'auth' | 'requestTimeoutMs'>;

/**
 * An etcd3 client for these settings. Every unary call gets a deadline (etcd3 sets
 * none: a call to a member behind a partition would wait forever); streams get
 * none, and gRPC keep-alive pings notice a dead peer under a silent stream.
 */
export async function connectEtcd(settings: ConnectionSettings): Promise<Etcd3> {
  const options: IOptions = {
    hosts: [...settings.endpoints],
    dialTimeout: settings.requestTimeoutMs,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + settings.requestTimeoutMs },
    grpcOptions: {
      // etcd refuses pings more often than every 5 s (--grpc-keepalive-min-time).
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
    },
  };
  if (settings.tls) {
    options.credentials = {
      rootCertificate: await readFile(settings.tls.ca),
      ...(settings.tls.cert && settings.tls.key
        ? {
            certChain: await readFile(settings.tls.cert),
            privateKey: await readFile(settings.tls.key),
          }
        : {}),
    };
  }
  if (settings.auth) {
    const password = (await readFile(settings.auth.passwordFile, 'utf8')).split('\n')[0] ?? '';
    options.auth = { username: settings.auth.username, password };
  }
  return new Etcd3(options);
}

/** etcd revisions arrive as decimal strings (etcd3 loads int64 as String). */
export function revisionOf(text: string | number | undefined): number {
  const value = Number(text ?? 0);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`bad revision '${String(text)}'`);
  return value;
}

/** An etcd failure as one bounded line for reports, conditions and logs. */
export function etcdErrorText(err: unknown): string {
  return boundedText(errorMessage(err), 300);
}

export interface KeySnapshot {
  /** The store revision all values were read at. */
  readonly revision: number;
  /** Each key that exists, with its value and mod_revision. */
  readonly values: ReadonlyMap<string, { readonly value: Buffer; readonly modRevision: number }>;
}

/** Reads several keys in one transaction: all at the same revision (never a mix). */
export async function readKeys(client: Etcd3, keys: readonly string[]): Promise<KeySnapshot> {
  const response = await client.kv.txn({
    compare: [],
    success: keys.map((key) => ({ request_range: { key: Buffer.from(key) } })),
  });
  const values = new Map<string, { value: Buffer; modRevision: number }>();
  for (const op of response.responses) {
    for (const kv of op.response_range?.kvs ?? []) {
      values.set(kv.key.toString('utf8'), {
        value: kv.value,
        modRevision: revisionOf(kv.mod_revision),
      });
    }
  }
  return { revision: revisionOf(response.header.revision), values };
}

/** Doubling delay with jitter between `min` and `max`; `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // Jitter in [base/2, base]: a thousand nodes do not come back in one burst.
    return Math.round(base / 2 + (base / 2) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
