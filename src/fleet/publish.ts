import type { Etcd3 } from 'etcd3';
import { revisionOf } from './etcd-client.js';
import type { FleetKeys } from './keys.js';
import { decodeLayerValue } from './layer-value.js';

export type PublishTarget = { readonly group: string } | { readonly node: string };

export interface PublishRequest {
  readonly client: Etcd3;
  readonly keys: FleetKeys;
  readonly target: PublishTarget;
  /** The file's text, published byte for byte once valid. */
  readonly text: string;
  /** The key's mod_revision the publisher last saw (0: the key must not exist yet). */
  readonly expectRevision?: number;
  /** The daemon's own document validator (throws InvalidDocument listing every problem). */
  readonly validate: (document: unknown) => void;
}

export class PublishError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'stale',
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/**
 * `op-dbus fleet publish FILE --group NAME | --node ID [--expect-revision N]`:
 * validates locally with the same validator the nodes use, then writes with a
 * compare-and-swap on the key's mod_revision, so two administrators cannot
 * overwrite each other blindly. Resolves with the new revision.
 */
export async function publishLayer(
  request: PublishRequest,
): Promise<{ key: string; revision: number }> {
  const { client, keys, target, text, expectRevision } = request;
  const kind = 'group' in target ? 'group' : 'node';
  const key = 'group' in target ? keys.groupDesired(target.group) : keys.nodeDesired(target.node);
  const decoded = decodeLayerValue(text, kind);
  if (!decoded.ok) {
    throw new PublishError(`invalid document:\n  ${decoded.problems.join('\n  ')}`, 'invalid');
  }
  request.validate(decoded.document);
  const keyBytes = Buffer.from(key);
  const response = await client.kv.txn({
    compare:
      expectRevision === undefined
        ? []
        : [{ key: keyBytes, target: 'Mod', result: 'Equal', mod_revision: expectRevision }],
    success: [{ request_put: { key: keyBytes, value: Buffer.from(text) } }],
    failure: [{ request_range: { key: keyBytes } }],
  });
  if (!response.succeeded) {
    const current = response.responses[0]?.response_range?.kvs[0];
    const now = current ? `revision ${revisionOf(current.mod_revision)}` : 'not published';
    throw new PublishError(
      `${key} is at ${now}, not ${String(expectRevision)}: refusing to overwrite`,
      'stale',
    );
  }
  return { key, revision: revisionOf(response.header.revision) };
}
