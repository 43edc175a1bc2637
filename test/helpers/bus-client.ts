import { callMethod, type Message, type MessageBus } from '../../src/dbus/bus.js';
import { SignalRouter } from '../../src/dbus/signal-router.js';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/dbus/api.js';
import { waitFor } from '../harness/processes.js';

export interface RecordedSignal {
  path: string;
  interface: string;
  member: string;
  body: unknown[];
}

/** Records every signal the daemon sends, as `busctl monitor` would see them. */
export class SignalRecorder {
  readonly signals: RecordedSignal[] = [];
  private readonly router: SignalRouter;

  private constructor(bus: MessageBus) {
    this.router = new SignalRouter(bus);
    this.router.subscribe({}, (message: Message) => {
      if (message.sender === 'org.freedesktop.DBus') return;
      this.signals.push({
        path: message.path,
        interface: message.interface,
        member: message.member,
        body: message.body as unknown[],
      });
    });
  }

  static async start(bus: MessageBus): Promise<SignalRecorder> {
    const recorder = new SignalRecorder(bus);
    await recorder.router.addMatch(`type='signal',sender='${BUS_NAME}'`);
    return recorder;
  }

  named(member: string): RecordedSignal[] {
    return this.signals.filter((signal) => signal.member === member);
  }

  /** Waits for a signal that `matches`, and returns the first. */
  async waitFor(
    what: string,
    matches: (signal: RecordedSignal) => boolean,
    timeoutMs = 60_000,
  ): Promise<RecordedSignal> {
    await waitFor(what, () => this.signals.some(matches), timeoutMs);
    return this.signals.find(matches) as RecordedSignal;
  }

  async waitForJobRemoved(jobId: number, timeoutMs = 60_000): Promise<RecordedSignal> {
    await waitFor(
      `JobRemoved for job ${jobId}`,
      () => this.named('JobRemoved').some((s) => s.body[0] === jobId),
      timeoutMs,
    );
    return this.named('JobRemoved').find((s) => s.body[0] === jobId) as RecordedSignal;
  }

  stop(): void {
    this.router.stop();
  }
}

/** A raw call to the manager object, for wrong signatures and unknown members. */
export function rawCall(
  bus: MessageBus,
  member: string,
  signature: string,
  body: unknown[],
  iface = MANAGER_INTERFACE,
  path = OBJECT_PATH,
): Promise<unknown[]> {
  return callMethod(bus, {
    destination: BUS_NAME,
    path,
    interface: iface,
    member,
    signature,
    body,
  });
}

async function busCall(
  bus: MessageBus,
  iface: string,
  member: string,
  signature: string,
  body: unknown[],
): Promise<unknown[]> {
  return callMethod(bus, {
    destination: 'org.freedesktop.DBus',
    path: '/org/freedesktop/DBus',
    interface: iface,
    member,
    signature,
    body,
  });
}

export async function ownerOf(bus: MessageBus, name: string): Promise<string> {
  return String((await busCall(bus, 'org.freedesktop.DBus', 'GetNameOwner', 's', [name]))[0]);
}

/** How many match rules a connection holds on the bus (dbus-daemon's Debug.Stats). */
export async function matchRuleCount(bus: MessageBus, uniqueName: string): Promise<number> {
  const [stats] = await busCall(
    bus,
    'org.freedesktop.DBus.Debug.Stats',
    'GetConnectionStats',
    's',
    [uniqueName],
  );
  return Number((stats as Record<string, { value: unknown }>).MatchRules?.value);
}

/** The D-Bus error name of a rejected promise. */
export async function errorOf(promise: Promise<unknown>): Promise<{ type: string; text: string }> {
  try {
    await promise;
  } catch (err) {
    const { type, text } = err as { type?: string; text?: string };
    return { type: String(type), text: String(text) };
  }
  throw new Error('expected the call to fail');
}

export function jobIdOf(path: string): number {
  return Number(path.split('/').pop());
}
