import { abortReason, type Message } from '../../dbus/bus.js';
import type { ServicePeer } from '../../dbus/service-peer.js';
import { retryableFailure, terminalFailure } from '../../errors.js';
import { ACTIVE_INTERFACE, DEVICE_INTERFACE, type NmClient } from './nm-client.js';
import { ActiveState, DeviceState } from './nm-types.js';

/** NMActiveConnectionStateReason, for failure messages. */
const REASONS: Record<number, string> = {
  2: 'disconnected by a user',
  3: 'the device disconnected',
  4: 'the service stopped',
  5: 'the IP configuration was invalid',
  6: 'the connection timed out',
  11: 'the profile was removed',
  12: 'a dependency (controller or parent) failed',
  13: 'the device could not be created',
  14: 'the device was removed',
};

/** How many recent states are kept for active connections nobody waits for yet. */
const REMEMBERED = 256;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Waits for active connections to reach "activated" (or fail), from their
 * StateChanged signals through the service's peer. It listens from start(),
 * before any ActivateConnection is sent, and remembers recent states, so a
 * signal that arrives before ActivateConnection's reply is not lost.
 */
export class ActivationWaiter {
  private readonly states = new Map<string, { state: number; reason: number }>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly peer: ServicePeer,
    private readonly client: NmClient,
  ) {}

  start(): void {
    this.unsubscribe ??= this.peer.subscribe(
      { interface: ACTIVE_INTERFACE, member: 'StateChanged' },
      (message) => this.onStateChanged(message),
    );
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const [path, waiters] of this.waiters) {
      for (const waiter of waiters) waiter.reject(retryableFailure(`stopped waiting for ${path}`));
    }
    this.waiters.clear();
  }

  private onStateChanged(message: Message): void {
    const [state, reason] = message.body as unknown[];
    if (typeof state !== 'number' || message.path === undefined) return;
    this.record(message.path, state, typeof reason === 'number' ? reason : 0);
  }

  private record(path: string, state: number, reason: number): void {
    this.states.delete(path);
    this.states.set(path, { state, reason });
    if (this.states.size > REMEMBERED) {
      const oldest = this.states.keys().next().value;
      if (oldest !== undefined) this.states.delete(oldest);
    }
    this.settle(path);
  }

  private settle(path: string): void {
    const known = this.states.get(path);
    const waiters = this.waiters.get(path);
    if (!known || !waiters) return;
    if (known.state === ActiveState.Activated) {
      for (const waiter of waiters) waiter.resolve();
    } else if (
      known.state === ActiveState.Deactivated ||
      known.state === ActiveState.Deactivating
    ) {
      const why = REASONS[known.reason] ?? `reason ${known.reason}`;
      for (const waiter of waiters) waiter.reject(terminalFailure(`activation failed: ${why}`));
    } else {
      return;
    }
    this.waiters.delete(path);
  }

  /**
   * Resolves when the active connection is activated; rejects when it fails,
   * when `timeoutMs` passes (retryable) or when `signal` aborts.
   */
  async wait(path: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    let waiter: Waiter | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      waiter = { resolve, reject };
      const set = this.waiters.get(path) ?? new Set<Waiter>();
      set.add(waiter);
      this.waiters.set(path, set);
      timer = setTimeout(
        () => reject(retryableFailure(`not activated within ${timeoutMs} ms`)),
        timeoutMs,
      );
      onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      this.settle(path);
      // A state reached before anyone listened (or while the owner was unknown) is read once.
      if (this.waiters.get(path)?.has(waiter as Waiter)) {
        const properties = await this.client.activeConnectionProperties(path, {
          signal,
          priority: 'job',
        });
        const state = Number(properties.State);
        if (!this.states.has(path)) this.record(path, state, 0);
        else this.settle(path);
      }
      await done;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      this.waiters.get(path)?.delete(waiter as Waiter);
      if (this.waiters.get(path)?.size === 0) this.waiters.delete(path);
    }
  }

  /**
   * Resolves when the device is activated (whatever the profile), from its
   * StateChanged signals; rejects when its activation fails. For a device
   * NetworkManager activates by itself, as after a rollback.
   */
  async waitDevice(device: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    let unsubscribe: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      unsubscribe = this.peer.subscribe(
        { path: device, interface: DEVICE_INTERFACE, member: 'StateChanged' },
        (message) => {
          const state = (message.body as unknown[])[0];
          if (state === DeviceState.Activated) resolve();
          if (state === DeviceState.Failed) reject(terminalFailure('activation failed'));
        },
      );
      timer = setTimeout(
        () => reject(retryableFailure(`not activated within ${timeoutMs} ms`)),
        timeoutMs,
      );
      onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const properties = await this.client.deviceProperties(device, { signal, priority: 'job' });
      if (properties.State !== DeviceState.Activated) await done;
    } finally {
      unsubscribe?.();
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      // A rejection nobody awaits any more must not surface as unhandled.
      done.catch(() => undefined);
    }
  }
}
