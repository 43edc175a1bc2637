import { callMethod, getProperty, type Message, type MessageBus } from '../dbus/bus.js';
import { SignalRouter } from '../dbus/signal-router.js';
import { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH } from '../dbus/state-manager-service.js';

/** Calls on org.opdbus.StateManager, for the CLI and for tests. */
export class StateManagerClient {
  readonly router: SignalRouter;

  constructor(readonly bus: MessageBus) {
    this.router = new SignalRouter(bus);
  }

  private async call(member: string, signature = '', body: unknown[] = [], timeoutMs = 120_000): Promise<unknown[]> {
    return callMethod(
      this.bus,
      { destination: BUS_NAME, path: OBJECT_PATH, interface: MANAGER_INTERFACE, member, signature, body },
      timeoutMs,
    );
  }

  async apply(document: string): Promise<string> {
    return String((await this.call('Apply', 's', [document]))[0]);
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
 * Applies a document and waits for its job to end, passing every Progress signal
 * of that job to `onProgress`. Subscribes before calling Apply so a fast job's
 * JobRemoved is not missed; falls back to reading the job's State.
 */
export async function applyAndWait(
  client: StateManagerClient,
  document: string,
  onProgress: (body: unknown[]) => void,
): Promise<{ jobPath: string } & JobOutcome> {
  const removed = new Map<string, string>();
  let jobPath: string | undefined;
  let wake: () => void = () => undefined;
  const unsubscribe = await client.watch((message) => {
    const body = message.body as unknown[];
    if (message.member === 'JobRemoved') {
      removed.set(String(body[1]), String(body[2]));
      wake();
    } else if (message.member === 'Progress' && jobPath !== undefined && `${jobPath}`.endsWith(`/${String(body[0])}`)) {
      onProgress(body);
    }
  });
  try {
    jobPath = await client.apply(document);
    const path = jobPath;
    const state = String(await client.jobProperty(path, 'State'));
    if (!['done', 'failed', 'cancelled'].includes(state)) {
      await new Promise<void>((resolve) => {
        wake = () => {
          if (removed.has(path)) resolve();
        };
        wake();
      });
    }
    const result = String(await client.jobProperty(path, 'Result'));
    return { jobPath: path, state: removed.get(path) ?? String(await client.jobProperty(path, 'State')), result };
  } finally {
    unsubscribe();
  }
}
