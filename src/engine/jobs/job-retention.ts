import type { Job } from './job.js';

/**
 * Keeps finished jobs readable for a while, bounded in time and in number, so a
 * client that calls Apply then reads the job learns its outcome, and thousands of
 * jobs do not grow memory. One timer, not one per job.
 */
export class JobRetention {
  private readonly finished: Job[] = [];
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly retentionMs: number,
    private readonly maxJobs: number,
    private readonly evict: (job: Job) => void,
  ) {}

  add(job: Job): void {
    this.finished.push(job);
    while (this.finished.length > this.maxJobs) this.evict(this.finished.shift() as Job);
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
  }

  private schedule(): void {
    if (this.sweeper || this.finished.length === 0) return;
    const oldest = this.finished[0] as Job;
    const due = (oldest.finishedAt ?? 0) + this.retentionMs - Date.now();
    this.sweeper = setTimeout(() => this.sweep(), Math.max(due, 0));
    this.sweeper.unref();
  }

  private sweep(): void {
    this.sweeper = undefined;
    const now = Date.now();
    while (
      this.finished.length > 0 &&
      (this.finished[0]?.finishedAt ?? 0) + this.retentionMs <= now
    ) {
      this.evict(this.finished.shift() as Job);
    }
    this.schedule();
  }
}
