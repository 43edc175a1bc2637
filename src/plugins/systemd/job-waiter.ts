import { abortReason, type Message } from '../../dbus/bus.js';

export interface JobWaitOptions {
  /**
   * The step's signal from the engine: cancel, daemon stop, or the plugin's apply
   * deadline (longer than systemd's own TimeoutStartSec, so that systemd times a
   * hung unit out first and reports its own Result).
   */
  signal: AbortSignal;
  /** Called with the job's path when we stop waiting before it ended (abort). */
  abandon(jobPath: string): Promise<void>;
}

/**
 * Matches systemd's JobRemoved(u id, o job, s unit, s result) signals to the jobs
 * this plugin queued. The signal can arrive before the StartUnit reply has been
 * handled (both come on the same connection, and a promise continuation runs
 * after every message in the same chunk), so removals are kept while any job is
 * being queued, and looked up once the job's path is known.
 *
 * The signals come from the plugin's router through one broad match rule; this
 * class adds none.
 */
export class JobWaiter {
  private readonly early = new Map<string, string>();
  private readonly waiting = new Map<string, (result: string) => void>();
  private queueing = 0;

  /** Feed every Manager.JobRemoved signal here. */
  onJobRemoved(message: Message): void {
    const [, jobPath, , result] = message.body as [number, string, string, string];
    const wake = this.waiting.get(jobPath);
    if (wake) wake(result);
    else if (this.queueing > 0) this.early.set(jobPath, result);
  }

  /**
   * Queues a job with `enqueue` (which returns its path) and resolves with the
   * job's result (done, failed, canceled, timeout, dependency, skipped, ...).
   * Rejects on abort, after calling `abandon` (e.g. to cancel the job).
   */
  async run(enqueue: () => Promise<string>, options: JobWaitOptions): Promise<string> {
    options.signal.throwIfAborted();
    this.queueing += 1;
    let jobPath: string;
    try {
      jobPath = await enqueue();
    } catch (err) {
      this.settleQueueing();
      throw err;
    }
    const early = this.early.get(jobPath);
    this.early.delete(jobPath);
    if (early !== undefined) {
      this.settleQueueing();
      return early;
    }
    try {
      return await this.wait(jobPath, options);
    } finally {
      this.waiting.delete(jobPath);
    }
  }

  private settleQueueing(): void {
    this.queueing -= 1;
    if (this.queueing === 0) this.early.clear();
  }

  private wait(jobPath: string, options: JobWaitOptions): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const { signal } = options;
      const onAbort = (): void => giveUp(abortReason(signal));
      function finish(): void {
        signal.removeEventListener('abort', onAbort);
      }
      const giveUp = (error: Error): void => {
        finish();
        this.waiting.delete(jobPath);
        const rejectWithError = (): void => reject(error);
        options.abandon(jobPath).then(rejectWithError, rejectWithError);
      };
      this.waiting.set(jobPath, (result) => {
        finish();
        resolve(result);
      });
      // Registered as a waiter before the early buffer may be dropped.
      this.settleQueueing();
      signal.addEventListener('abort', onAbort, { once: true });
      // Aborted while the job was being queued: the job exists, cancel it.
      if (signal.aborted) onAbort();
    });
  }
}
