import {
  callMethod,
  getAllProperties,
  getProperty,
  type MessageBus,
  type MethodCall,
} from '../../dbus/bus.js';
import type { WorkPriority } from '../../engine/plugin.js';
import { ServiceSlots } from '../shared/service-slots.js';

export const NM_NAME = 'org.freedesktop.NetworkManager';

/**
 * The daemon's own calls to NetworkManager in flight at once, over every reader
 * and the job: a snapshot fans out over devices and profiles, and the bus allows
 * 128 pending replies per connection, a connection the other system-bus plugins
 * share (PackageKit 2, each settings service 4).
 */
export const NM_CALL_SLOTS = 16;

/** Every call: whose work it is (job work first), the operation's signal, a timeout. */
export interface NmCallOptions {
  signal: AbortSignal;
  priority: WorkPriority;
  /** Default: the client's (10 s). */
  timeoutMs?: number;
}

/**
 * The transport under NmClient: every call to NetworkManager waits for one of
 * a fixed number of slots, job work before reads (ServiceSlots), so that no
 * flood of Plans by local users holds more than the slots open against
 * NetworkManager or delays an apply by more than the calls already open.
 */
export class NmCalls {
  readonly slots: ServiceSlots;

  constructor(
    private readonly bus: MessageBus,
    private readonly defaultTimeoutMs = 10_000,
    slots = NM_CALL_SLOTS,
  ) {
    this.slots = new ServiceSlots(slots);
  }

  private options(options: NmCallOptions) {
    return { timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs, signal: options.signal };
  }

  call(
    path: string,
    iface: string,
    member: string,
    signature: string,
    body: unknown[],
    options: NmCallOptions,
  ): Promise<unknown[]> {
    const call: MethodCall = {
      destination: NM_NAME,
      path,
      interface: iface,
      member,
      signature,
      body,
    };
    return this.slots.run(options.priority, options.signal, () =>
      callMethod(this.bus, call, this.options(options)),
    );
  }

  properties(
    path: string,
    iface: string,
    options: NmCallOptions,
  ): Promise<Record<string, unknown>> {
    return this.slots.run(options.priority, options.signal, () =>
      getAllProperties(this.bus, NM_NAME, path, iface, this.options(options)),
    );
  }

  property(path: string, iface: string, name: string, options: NmCallOptions): Promise<unknown> {
    return this.slots.run(options.priority, options.signal, () =>
      getProperty(this.bus, NM_NAME, path, iface, name, this.options(options)),
    );
  }
}
