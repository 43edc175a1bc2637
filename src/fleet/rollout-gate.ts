import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { Backoff, etcdErrorText } from './etcd-client.js';
import { prefixRangeEnd, type FleetKeys } from './keys.js';
import { KeyWatch } from './key-watch.js';
import type { RolloutGate } from './layer-worker.js';
import { RolloutSlots, type HeldSlot } from './rollout.js';

type Held = HeldSlot & { revision: number; failed: boolean };

/**
 * The node's side of staged rollouts: take a slot before a new group revision,
 * release it when the job ends done, keep it (marked failed) when it does not.
 * While every slot is held it waits on a watch of the slots, not a timer. etcd
 * trouble is retried here with back-off: a slot is never given up because etcd was
 * briefly away, and a release that could not be written is written later.
 */
export class SlotGate implements RolloutGate {
  private readonly slots: RolloutSlots;
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly client: Etcd3,
    private readonly keys: FleetKeys,
    node: string,
    private readonly lease: () => string | undefined,
    private readonly backoff: () => Backoff,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {
    this.slots = new RolloutSlots(client, keys, node);
  }

  async acquire(group: string, revision: number, max: number, signal: AbortSignal): Promise<void> {
    const backoff = this.backoff();
    for (;;) {
      signal.throwIfAborted();
      const leaseId = this.lease();
      if (leaseId === undefined) {
        await sleep(200, undefined, { signal });
        continue;
      }
      try {
        const result = await this.slots.take(group, revision, max, leaseId);
        if ('taken' in result) {
          this.held.set(group, { ...result.taken, revision, failed: false });
          this.log.info({ group, revision, slot: result.taken.index }, 'fleet rollout slot taken');
          return;
        }
        this.log.info({ group, revision, max }, 'fleet rollout slots all held; waiting');
        await this.slotsChange(group, result.revision + 1, signal);
        backoff.reset();
      } catch (err) {
        signal.throwIfAborted();
        this.log.warn({ group, err: etcdErrorText(err) }, 'fleet rollout slot not taken');
        await sleep(backoff.next(), undefined, { signal });
      }
    }
  }

  async finish(
    group: string,
    revision: number,
    end: 'done' | 'failed' | 'cancelled',
  ): Promise<void> {
    const held = this.held.get(group);
    if (!held) return;
    if (end === 'done') {
      await this.persist(group, () => this.slots.release(held));
      if (this.held.get(group) === held) this.held.delete(group);
      return;
    }
    await this.persist(group, async () => {
      const leaseId = this.lease();
      if (leaseId === undefined) throw new Error('no lease');
      const kept = await this.slots.keepAsFailed(held, revision, leaseId);
      if (kept) this.held.set(group, { ...kept, revision, failed: true });
      else this.held.delete(group); // someone removed it (an administrator freeing the rollout)
    });
    this.log.warn(
      { group, revision, slot: held.index },
      'fleet rollout slot kept: job did not end done',
    );
  }

  async abandon(group: string): Promise<void> {
    const held = this.held.get(group);
    if (!held) return;
    this.held.delete(group);
    await this.slots.release(held);
  }

  /**
   * A new lease replaced an expired one: slots bound to the old lease are gone.
   * Take them again so that a failed node still halts its rollout.
   */
  async leaseRenewed(leaseId: string): Promise<void> {
    for (const [group, held] of this.held) {
      const max = Number.MAX_SAFE_INTEGER; // re-taking what we held: never refused for the limit
      const result = await this.slots
        .take(group, held.revision, max, leaseId)
        .catch(() => undefined);
      if (result && 'taken' in result) {
        let slot: Held = { ...result.taken, revision: held.revision, failed: held.failed };
        if (held.failed) {
          const kept = await this.slots
            .keepAsFailed(slot, held.revision, leaseId)
            .catch(() => undefined);
          if (kept) slot = { ...kept, revision: held.revision, failed: true };
        }
        this.held.set(group, slot);
      }
    }
  }

  /** Retries `write` with back-off until it succeeds or the agent stops. */
  private async persist(group: string, write: () => Promise<void>): Promise<void> {
    const backoff = this.backoff();
    for (;;) {
      try {
        await write();
        return;
      } catch (err) {
        if (this.signal.aborted) return;
        this.log.warn(
          { group, err: etcdErrorText(err) },
          'fleet rollout slot not written; retrying',
        );
        await sleep(backoff.next(), undefined, { signal: this.signal }).catch(() => undefined);
      }
    }
  }

  /** Resolves at the first change of the group's slots from `revision` on (or trouble). */
  private slotsChange(group: string, revision: number, signal: AbortSignal): Promise<void> {
    const dir = this.keys.rolloutSlotsDir(group);
    return new Promise<void>((resolve, reject) => {
      let watch: KeyWatch | undefined = undefined;
      const done = (): void => {
        watch?.stop();
        signal.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = (): void => {
        watch?.stop();
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', aborted, { once: true });
      watch = new KeyWatch(
        this.client,
        [{ key: dir, rangeEnd: prefixRangeEnd(dir) }],
        revision,
        { events: done, cancelled: done, disconnected: done, connected: () => undefined },
        this.backoff(),
      );
      watch.start();
    });
  }
}
