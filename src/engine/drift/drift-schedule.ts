import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

/** The periodic full drift check on a node-cron schedule, reschedulable on SIGHUP. */
export class DriftSchedule {
  private task: ScheduledTask | undefined;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly log: Logger,
  ) {
    // node-cron prints coloured warnings to the console unless given a logger.
    cron.setLogger({
      info: (message) => log.debug({ source: 'node-cron' }, message),
      warn: (message) => log.warn({ source: 'node-cron' }, message),
      error: (message, err) => log.error({ source: 'node-cron', err }, String(message)),
      debug: (message) => log.trace({ source: 'node-cron' }, String(message)),
    });
  }

  async start(expression: string): Promise<void> {
    await this.stop();
    this.task = cron.schedule(expression, () => this.run(), {
      name: 'drift-check',
      noOverlap: true,
    });
    this.log.info({ schedule: expression }, 'periodic drift check scheduled');
  }

  async stop(): Promise<void> {
    const task = this.task;
    this.task = undefined;
    await task?.stop();
    await task?.destroy();
  }
}
