import type { Etcd3, ILeaseKeepAliveResponse } from 'etcd3';
import { etcdErrorText } from './etcd-client.js';

export interface LeaseHooks {
  /** A new lease exists: bind the node's keys (alive, held rollout slots) to it. */
  granted(leaseId: string): Promise<void>;
  /** Keep-alive failed; the lease may expire. */
  trouble(reason: string): void;
}

/**
 * The node's one lease, kept alive at a third of its TTL (as etcd's Go client does).
 * Written on the raw Lease RPCs because etcd3 1.1.2's Lease retries a failed
 * keep-alive every 100 ms while etcd is down, and once it gives up (after 2 TTLs)
 * never grants again. Here a lease that has expired, or that went unrenewed for a
 * whole TTL, is replaced by a new one at the next tick, and `granted` runs again.
 */
export class LeaseKeeper {
  private leaseId: string | undefined;
  private lastRenewal = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ticking = false;

  constructor(
    private readonly client: Etcd3,
    private readonly ttlSeconds: number,
    private readonly requestTimeoutMs: number,
    private readonly hooks: LeaseHooks,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** The current lease, if one is believed alive. */
  current(): string | undefined {
    return this.leaseId;
  }

  /** Stops renewing; with `revoke`, deletes the lease so its keys vanish now, not after the TTL. */
  async stop(revoke: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const id = this.leaseId;
    this.leaseId = undefined;
    if (revoke && id !== undefined) {
      await this.client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
    }
  }

  /** Renew now (e.g. right after etcd came back) instead of at the next tick. */
  poke(): void {
    if (!this.stopped && !this.ticking) {
      clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    try {
      if (this.leaseId !== undefined && Date.now() - this.lastRenewal > this.ttlSeconds * 1000) {
        this.leaseId = undefined; // unrenewed for a whole TTL: etcd has dropped it
      }
      if (this.leaseId === undefined) await this.grant();
      else await this.renew(this.leaseId);
    } catch (err) {
      this.hooks.trouble(etcdErrorText(err));
    } finally {
      this.ticking = false;
      this.schedule(this.leaseId === undefined ? 1_000 : (this.ttlSeconds * 1000) / 3);
    }
  }

  private async grant(): Promise<void> {
    const { ID } = await this.client.leaseClient.leaseGrant({ TTL: this.ttlSeconds });
    if (this.stopped) {
      await this.client.leaseClient.leaseRevoke({ ID }).catch(() => undefined);
      return;
    }
    this.leaseId = ID;
    this.lastRenewal = Date.now();
    try {
      await this.hooks.granted(ID);
    } catch (err) {
      // The alive key was not written: start over with a new lease at the next tick.
      this.leaseId = undefined;
      await this.client.leaseClient.leaseRevoke({ ID }).catch(() => undefined);
      throw err;
    }
  }

  private async renew(id: string): Promise<void> {
    const stream = await this.client.leaseClient.leaseKeepAlive();
    const answer = await new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('lease keep-alive timed out')),
        this.requestTimeoutMs,
      );
      stream.on('data', (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      stream.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.write({ ID: id });
    }).finally(() => stream.end());
    if (answer.TTL === '0' || Number(answer.TTL) <= 0) {
      this.leaseId = undefined; // expired: the next tick grants a new one
      throw new Error('lease expired');
    }
    this.lastRenewal = Date.now();
  }
}
