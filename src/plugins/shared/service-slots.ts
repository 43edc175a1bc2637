import type { WorkPriority } from '../../engine/plugin.js';
import { abortReason } from '../../dbus/bus.js';

interface Waiter {
  priority: WorkPriority;
  start: () => void;
}

/**
 * At most `size` of the daemon's own operations open at once against one
 * service (PackageKit transactions, systemd calls), so that no amount of reads
 * by local users can exhaust what the service allows the daemon (PackageKit's
 * transactions per uid, the bus's pending replies per connection). Job work
 * waits in front of every read: a flood of Plans never delays an Apply, a
 * reconcile or a drift correction by more than the operations already open.
 */
export class ServiceSlots {
  private open = 0;
  private openReads = 0;
  private readonly jobs: Waiter[] = [];
  private readonly reads: Waiter[] = [];
  /** Reads never take the last slot: a job never waits behind a read. */
  private readonly readLimit: number;

  constructor(readonly size: number) {
    this.readLimit = Math.max(size - 1, 1);
  }

  /** Operations waiting for a slot (for logs and tests). */
  get waiting(): number {
    return this.jobs.length + this.reads.length;
  }

  get inUse(): number {
    return this.open;
  }

  /** Runs `operation` in a slot; gives up waiting (not the operation) when `signal` fires. */
  async run<T>(
    priority: WorkPriority,
    signal: AbortSignal,
    operation: () => Promise<T>,
  ): Promise<T> {
    await this.acquire(priority, signal);
    try {
      return await operation();
    } finally {
      this.release(priority);
    }
  }

  private free(priority: WorkPriority): boolean {
    return this.open < this.size && (priority === 'job' || this.openReads < this.readLimit);
  }

  private take(priority: WorkPriority): void {
    this.open += 1;
    if (priority === 'read') this.openReads += 1;
  }

  private acquire(priority: WorkPriority, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.free(priority) && (priority === 'job' || this.jobs.length === 0)) {
      this.take(priority);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const queue = priority === 'job' ? this.jobs : this.reads;
      const onAbort = (): void => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        reject(abortReason(signal));
      };
      const waiter: Waiter = {
        priority,
        start: () => {
          signal.removeEventListener('abort', onAbort);
          this.take(priority);
          resolve();
        },
      };
      queue.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(priority: WorkPriority): void {
    this.open -= 1;
    if (priority === 'read') this.openReads -= 1;
    if (this.jobs.length > 0 && this.free('job')) (this.jobs.shift() as Waiter).start();
    else if (this.reads.length > 0 && this.free('read')) (this.reads.shift() as Waiter).start();
  }
}

/**
 * Identical reads in flight share one answer: the second caller of `run(key)`
 * while the first is still running gets the first's promise.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, read: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = read().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}

/** The work's outcome, unless `signal` fires first (the work itself goes on). */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
