import { callMethod, MessageType, type Message, type MessageBus } from './bus.js';

export interface SignalFilter {
  path?: string;
  interface?: string;
  member?: string;
}

export type SignalHandler = (message: Message) => void;

interface Route {
  filter: SignalFilter;
  handler: SignalHandler;
}

export function matches(filter: SignalFilter, message: Message): boolean {
  return (
    (filter.path === undefined || filter.path === message.path) &&
    (filter.interface === undefined || filter.interface === message.interface) &&
    (filter.member === undefined || filter.member === message.member)
  );
}

/**
 * Routes incoming signals to handlers without one bus match rule per subscription.
 *
 * dbus-next never sends RemoveMatch (its _removeMatch has swapped arguments), so a
 * daemon that subscribes per transaction leaks a rule each time and dies at the
 * bus's limit (512 per connection). Here each broad rule is added once, for the
 * life of the connection, and handlers come and go in memory only.
 */
export class SignalRouter {
  private readonly rules = new Set<string>();
  private readonly routes = new Set<Route>();
  private readonly onMessage = (message: Message): void => {
    if (message.type !== MessageType.SIGNAL) return;
    for (const route of [...this.routes]) {
      if (matches(route.filter, message)) route.handler(message);
    }
  };

  constructor(private readonly bus: MessageBus) {
    bus.on('message', this.onMessage);
  }

  /** Adds a bus match rule once; later calls with the same rule do nothing. */
  async addMatch(rule: string): Promise<void> {
    if (this.rules.has(rule)) return;
    this.rules.add(rule);
    try {
      await callMethod(this.bus, {
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'AddMatch',
        signature: 's',
        body: [rule],
      });
    } catch (err) {
      this.rules.delete(rule);
      throw err;
    }
  }

  /** Routes matching signals to the handler until the returned function is called. */
  subscribe(filter: SignalFilter, handler: SignalHandler): () => void {
    const route = { filter, handler };
    this.routes.add(route);
    return () => {
      this.routes.delete(route);
    };
  }

  stop(): void {
    this.bus.off('message', this.onMessage);
    this.routes.clear();
  }
}
