import { Job } from './job.js';

/**
 * Runs jobs one at a time, in the order they were queued: concurrent Apply calls
 * wait their turn and never interleave. A job cancelled while queued is skipped.
 */
export class JobQueue {
  private readonly waiting: Job[] = [];
  private running: Job | undefined;
  private idle: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly run: (job: Job) => Promise<void>,
    /** A job that throws must not stop the jobs behind it. */
    private readonly onError: (job: Job, err: unknown) => void = () => undefined,
  ) {}

  enqueue(job: Job): void {
    if (this.stopped) throw new Error('job queue is stopped');
    this.waiting.push(job);
    if (!this.running) this.idle = this.drain();
  }

  get current(): Job | undefined {
    return this.running;
  }

  get length(): number {
    return this.waiting.length;
  }

  /** Removes a queued job; false when it is not waiting (already running or done). */
  remove(job: Job): boolean {
    const index = this.waiting.indexOf(job);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  /** Resolves when no job is running or waiting. */
  whenIdle(): Promise<void> {
    return this.idle;
  }

  /** Takes no new jobs, drops those waiting, and resolves when the running one ends. */
  async stop(): Promise<Job[]> {
    this.stopped = true;
    const dropped = this.waiting.splice(0);
    await this.idle;
    return dropped;
  }

  private async drain(): Promise<void> {
    for (let job = this.waiting.shift(); job; job = this.waiting.shift()) {
      this.running = job;
      try {
        await this.run(job);
      } catch (err) {
        this.onError(job, err);
      } finally {
        this.running = undefined;
      }
    }
  }
}
