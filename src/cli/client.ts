import {
  callMethod,
  getAllProperties,
  getProperty,
  type Message,
  type MessageBus,
} from '../dbus/bus.js';
import { SignalRouter } from '../dbus/signal-router.js';
import {
  BUS_NAME,
  CHECKPOINT_INTERFACE,
  JOB_INTERFACE,
  MANAGER_INTERFACE,
  OBJECT_PATH,
} from '../dbus/api.js';

/** Calls on org.opdbus.StateManager, for the CLI and for tests. */
export class StateManagerClient {
  readonly router: SignalRouter;

  constructor(readonly bus: MessageBus) {
    this.router = new SignalRouter(bus);
  }

  private async call(
    member: string,
    signature = '',
    body: unknown[] = [],
    timeoutMs = 120_000,
  ): Promise<unknown[]> {
    return callMethod(
      this.bus,
      {
        destination: BUS_NAME,
        path: OBJECT_PATH,
        interface: MANAGER_INTERFACE,
        member,
        signature,
        body,
      },
      timeoutMs,
    );
  }

  async apply(document: string): Promise<string> {
    return String((await this.call('Apply', 's', [document]))[0]);
  }

  /** Applies on probation; returns the job's and the checkpoint's paths. */
  async applyConfirmed(document: string, timeoutSeconds: number): Promise<[string, string]> {
    const [job, checkpoint] = await this.call('ApplyConfirmed', 'su', [document, timeoutSeconds]);
    return [String(job), String(checkpoint)];
  }

  /** Confirm, Rollback or Extend on a checkpoint object. */
  async checkpointCall(
    path: string,
    member: 'Confirm' | 'Rollback' | 'Extend',
    seconds?: number,
  ): Promise<void> {
    await callMethod(
      this.bus,
      {
        destination: BUS_NAME,
        path,
        interface: CHECKPOINT_INTERFACE,
        member,
        signature: seconds === undefined ? '' : 'u',
        body: seconds === undefined ? [] : [seconds],
      },
      120_000,
    );
  }

  async checkpointProperties(path: string): Promise<Record<string, unknown>> {
    return getAllProperties(this.bus, BUS_NAME, path, CHECKPOINT_INTERFACE);
  }

  async plan(document: string): Promise<string> {
    return String((await this.call('Plan', 's', [document]))[0]);
  }

  async query(plugins: string[]): Promise<string> {
    return String((await this.call('Query', 'as', [plugins]))[0]);
  }

  async desiredState(): Promise<string> {
    return String((await this.call('GetDesiredState'))[0]);
  }

  async desiredLayers(): Promise<string> {
    return String((await this.call('GetDesiredLayers'))[0]);
  }

  async history(limit: number): Promise<string> {
    return String((await this.call('GetHistory', 'u', [limit]))[0]);
  }

  async verifyHistory(): Promise<string> {
    return String((await this.call('VerifyHistory'))[0]);
  }

  async verify(): Promise<string> {
    return String((await this.call('Verify'))[0]);
  }

  async reconcile(): Promise<string> {
    return String((await this.call('Reconcile'))[0]);
  }

  async managerProperties(): Promise<Record<string, unknown>> {
    return getAllProperties(this.bus, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE);
  }

  async jobProperty(jobPath: string, name: string): Promise<unknown> {
    return getProperty(this.bus, BUS_NAME, jobPath, JOB_INTERFACE, name);
  }

  async managerProperty(name: string): Promise<unknown> {
    return getProperty(this.bus, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, name);
  }

  /** Subscribes to the manager's signals (one match rule, added once). */
  async watch(handler: (message: Message) => void): Promise<() => void> {
    await this.router.addMatch(`type='signal',sender='${BUS_NAME}',path='${OBJECT_PATH}'`);
    return this.router.subscribe({ path: OBJECT_PATH, interface: MANAGER_INTERFACE }, handler);
  }
}

export interface JobOutcome {
  state: string;
  result: string;
}

/**
 * Starts a job (Apply, Reconcile) and waits for it to end, passing every Progress
 * signal of that job to `onProgress`. Subscribes before starting so a fast job's
 * JobRemoved is not missed, holds Progress that arrives before the reply names
 * the job, and falls back to reading the job's State.
 */
export async function runJobAndWait(
  client: StateManagerClient,
  startJob: () => Promise<string>,
  onProgress: (body: unknown[]) => void,
): Promise<{ jobPath: string } & JobOutcome> {
  const removed = new Map<number, string>();
  const early: unknown[][] = [];
  let jobId: number | undefined;
  let wake: () => void = () => undefined;
  const unsubscribe = await client.watch((message) => {
    const body = message.body as unknown[];
    if (message.member === 'JobRemoved') {
      removed.set(Number(body[0]), String(body[2]));
      wake();
    } else if (message.member === 'Progress') {
      if (jobId === undefined) early.push(body);
      else if (body[0] === jobId) onProgress(body);
    }
  });
  try {
    const jobPath = await startJob();
    const id = Number(jobPath.split('/').pop());
    jobId = id;
    for (const body of early.splice(0)) if (body[0] === id) onProgress(body);
    const state = String(await client.jobProperty(jobPath, 'State'));
    if (!FINAL_STATES.includes(state)) {
      await new Promise<void>((resolve) => {
        wake = () => {
          if (removed.has(id)) resolve();
        };
        wake();
      });
    }
    const result = String(await client.jobProperty(jobPath, 'Result'));
    return { jobPath, state: removed.get(id) ?? state, result };
  } finally {
    unsubscribe();
  }
}

/** Applies a document and waits for its job (see runJobAndWait). */
export function applyAndWait(
  client: StateManagerClient,
  document: string,
  onProgress: (body: unknown[]) => void,
): Promise<{ jobPath: string } & JobOutcome> {
  return runJobAndWait(client, () => client.apply(document), onProgress);
}

const FINAL_STATES = ['done', 'failed', 'cancelled'];
