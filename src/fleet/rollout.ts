import { Type, type Static } from '@sinclair/typebox';
import type { Etcd3 } from 'etcd3';
import { SchemaChecker } from '../document/validator.js';
import { NAME_PATTERN, type FleetKeys } from './keys.js';
import { revisionOf } from './etcd-client.js';

/** The value of a rollout slot key: who holds it, for which revision, and how it went. */
export const SlotHolderSchema = Type.Object(
  {
    node: Type.String({ pattern: NAME_PATTERN }),
    revision: Type.Integer({ minimum: 1 }),
    state: Type.Union([Type.Literal('applying'), Type.Literal('failed')]),
    since: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type SlotHolder = Static<typeof SlotHolderSchema>;
const holderChecker = new SchemaChecker(SlotHolderSchema);

/** A slot key as read: its index, and its holder if the value is a valid holder. */
export interface SlotEntry {
  readonly index: number;
  readonly holder: SlotHolder | undefined;
  readonly modRevision: number;
}

export type SlotChoice =
  | { readonly kind: 'mine'; readonly index: number; readonly modRevision: number }
  | { readonly kind: 'try'; readonly indexes: readonly number[] }
  | { readonly kind: 'full' };

/**
 * Which slot to take, given the slots as read. A node that still holds a slot (its
 * last apply failed) reuses it for the new revision: a fix reaches the failed nodes
 * first. Every held slot counts, also one above `max` (the limit was lowered) or one
 * whose value cannot be read: a slot is free only when its key does not exist.
 */
export function chooseSlot(entries: readonly SlotEntry[], node: string, max: number): SlotChoice {
  const mine = entries.find((entry) => entry.holder?.node === node);
  if (mine) return { kind: 'mine', index: mine.index, modRevision: mine.modRevision };
  if (entries.length >= max) return { kind: 'full' };
  const taken = new Set(entries.map((entry) => entry.index));
  const indexes: number[] = [];
  for (let index = 0; index < max; index++) if (!taken.has(index)) indexes.push(index);
  return indexes.length > 0 ? { kind: 'try', indexes } : { kind: 'full' };
}

/** A slot this node holds: the key's mod_revision after our write guards later changes. */
export interface HeldSlot {
  readonly group: string;
  readonly index: number;
  readonly modRevision: number;
}

export type TakeResult =
  | { readonly taken: HeldSlot }
  | { readonly full: true; readonly revision: number; readonly holders: readonly SlotEntry[] };

/**
 * Lease-backed rollout slots `<prefix>/rollouts/<group>/slots/<k>`: taken with a
 * compare-and-swap (create_revision == 0, i.e. the key does not exist), bound to the
 * node's lease so a dead node's slot frees itself.
 */
export class RolloutSlots {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: FleetKeys,
    private readonly node: string,
  ) {}

  async read(group: string): Promise<{ revision: number; entries: SlotEntry[] }> {
    const dir = this.keys.rolloutSlotsDir(group);
    const response = await this.client.getAll().prefix(dir).exec();
    const entries: SlotEntry[] = [];
    for (const kv of response.kvs) {
      const name = kv.key.toString('utf8').slice(dir.length);
      if (!/^(0|[1-9][0-9]{0,4})$/.test(name)) continue; // not a slot key: ignored
      let holder: SlotHolder | undefined;
      try {
        const value: unknown = JSON.parse(kv.value.toString('utf8'));
        if (holderChecker.problems(value).length === 0) holder = value as SlotHolder;
      } catch {
        // unreadable: still held by someone
      }
      entries.push({ index: Number(name), holder, modRevision: revisionOf(kv.mod_revision) });
    }
    return { revision: revisionOf(response.header.revision), entries };
  }

  async take(group: string, revision: number, max: number, leaseId: string): Promise<TakeResult> {
    const { revision: readAt, entries } = await this.read(group);
    const choice = chooseSlot(entries, this.node, max);
    const value = this.holderValue(revision, 'applying');
    switch (choice.kind) {
      case 'mine': {
        const key = this.keys.rolloutSlot(group, choice.index);
        const modRevision = await this.swap(key, 'Mod', choice.modRevision, value, leaseId);
        if (modRevision !== undefined)
          return { taken: { group, index: choice.index, modRevision } };
        break;
      }
      case 'try':
        for (const index of choice.indexes) {
          const key = this.keys.rolloutSlot(group, index);
          const modRevision = await this.swap(key, 'Create', 0, value, leaseId);
          if (modRevision !== undefined) return { taken: { group, index, modRevision } };
        }
        break;
      case 'full':
        break;
    }
    return { full: true, revision: readAt, holders: entries };
  }

  /** The job failed: keep the slot (the rollout halts once every slot is so held), say so. */
  async keepAsFailed(
    slot: HeldSlot,
    revision: number,
    leaseId: string,
  ): Promise<HeldSlot | undefined> {
    const key = this.keys.rolloutSlot(slot.group, slot.index);
    const value = this.holderValue(revision, 'failed');
    const modRevision = await this.swap(key, 'Mod', slot.modRevision, value, leaseId);
    return modRevision === undefined ? undefined : { ...slot, modRevision };
  }

  /** The job ended done: free the slot, unless it is no longer the one we wrote. */
  async release(slot: HeldSlot): Promise<void> {
    const key = Buffer.from(this.keys.rolloutSlot(slot.group, slot.index));
    await this.client.kv.txn({
      compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: slot.modRevision }],
      success: [{ request_delete_range: { key } }],
    });
  }

  private holderValue(revision: number, state: SlotHolder['state']): Buffer {
    const holder: SlotHolder = {
      node: this.node,
      revision,
      state,
      since: new Date().toISOString(),
    };
    return Buffer.from(JSON.stringify(holder));
  }

  /** Put `value` if the key's `target` revision equals `expected`; the new mod_revision, or undefined. */
  private async swap(
    key: string,
    target: 'Create' | 'Mod',
    expected: number,
    value: Buffer,
    leaseId: string,
  ): Promise<number | undefined> {
    const keyBytes = Buffer.from(key);
    const compare =
      target === 'Create'
        ? { key: keyBytes, target, result: 'Equal' as const, create_revision: expected }
        : { key: keyBytes, target, result: 'Equal' as const, mod_revision: expected };
    const response = await this.client.kv.txn({
      compare: [compare],
      success: [{ request_put: { key: keyBytes, value, lease: leaseId } }],
    });
    return response.succeeded ? revisionOf(response.header.revision) : undefined;
  }
}
