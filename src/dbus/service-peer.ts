import type { Logger } from 'pino';
import { callMethod, type Message, type MessageBus } from './bus.js';
import { matches, type SignalFilter, type SignalRouter } from './signal-router.js';

const BUS_DRIVER = 'org.freedesktop.DBus';

export type OwnerListener = (owner: string | undefined, previous: string | undefined) => void;

/**
 * One system service the daemon listens to (PackageKit, systemd, hostname1, ...),
 * and the only way plugins hear its signals.
 *
 * A signal is believed only if the bus says it comes from the connection that
 * owns the service's well-known name right now. A match rule with `sender=` is
 * not enough: the bus delivers unicast signals (destination = the daemon) from
 * anyone, whatever the daemon's match rules say. The bus daemon itself stamps
 * every message's sender, so comparing it with the current owner is sound. The
 * owner is read with GetNameOwner and followed with NameOwnerChanged, itself
 * believed only from the bus driver. Everything else is dropped and counted;
 * nothing of a dropped signal's contents is ever passed on.
 */
export class ServicePeer {
  private ownerValue: string | undefined;
  /** Bumped by every NameOwnerChanged, so an older GetNameOwner answer never wins. */
  private ownerChanges = 0;
  private readonly routes = new Set<{ filter: SignalFilter; handler: (m: Message) => void }>();
  private readonly ownerListeners = new Set<OwnerListener>();
  private unsubscribe: (() => void) | undefined;
  private started: Promise<void> | undefined;
  /** Signals that matched a subscription but did not come from the owner. */
  dropped = 0;

  constructor(
    private readonly bus: MessageBus,
    private readonly router: SignalRouter,
    readonly name: string,
    private readonly log: Logger,
  ) {}

  /** The unique name that owns the service now; undefined while nobody does. */
  get owner(): string | undefined {
    return this.ownerValue;
  }

  /**
   * Adds the two match rules (the service's signals, its owner changes) and reads
   * the owner. Idempotent; shared by every plugin that uses the service.
   */
  start(): Promise<void> {
    this.started ??= this.begin().catch((err: unknown) => {
      this.started = undefined;
      throw err;
    });
    return this.started;
  }

  private async begin(): Promise<void> {
    this.unsubscribe = this.router.subscribe({}, (message) => this.onSignal(message));
    await this.router.addMatch(`type='signal',sender='${this.name}'`);
    await this.router.addMatch(
      `type='signal',sender='${BUS_DRIVER}',interface='${BUS_DRIVER}',member='NameOwnerChanged',arg0='${this.name}'`,
    );
    await this.readOwner();
  }

  /** Asks the bus who owns the name, unless a NameOwnerChanged said so meanwhile. */
  private async readOwner(): Promise<void> {
    const changesBefore = this.ownerChanges;
    let owner: string | undefined;
    try {
      const [unique] = await callMethod(this.bus, {
        destination: BUS_DRIVER,
        path: '/org/freedesktop/DBus',
        interface: BUS_DRIVER,
        member: 'GetNameOwner',
        signature: 's',
        body: [this.name],
      });
      owner = String(unique);
    } catch {
      // NameHasNoOwner: the service is not running (yet).
      owner = undefined;
    }
    if (this.ownerChanges === changesBefore) this.setOwner(owner);
  }

  private setOwner(owner: string | undefined): void {
    const previous = this.ownerValue;
    if (previous === owner) return;
    this.ownerValue = owner;
    this.log.debug({ service: this.name, owner, previous }, 'service owner changed');
    for (const listener of [...this.ownerListeners]) listener(owner, previous);
  }

  private onSignal(message: Message): void {
    if (
      message.interface === BUS_DRIVER &&
      message.member === 'NameOwnerChanged' &&
      (message.body as unknown[])[0] === this.name
    ) {
      if (message.sender !== BUS_DRIVER) {
        this.drop(message);
        return;
      }
      this.ownerChanges += 1;
      const owner = String((message.body as unknown[])[2]);
      this.setOwner(owner === '' ? undefined : owner);
      return;
    }
    const routes = [...this.routes].filter((route) => matches(route.filter, message));
    if (routes.length === 0) return;
    if (message.sender === undefined || message.sender !== this.ownerValue) {
      this.drop(message);
      return;
    }
    for (const route of routes) route.handler(message);
  }

  private drop(message: Message): void {
    this.dropped += 1;
    // Identifiers only: they are checked by the bus; the body is the sender's and is never logged.
    this.log.debug(
      {
        service: this.name,
        sender: message.sender,
        path: message.path,
        member: message.member,
        dropped: this.dropped,
      },
      'signal not from the service owner dropped',
    );
  }

  /** Routes the service's signals that match `filter` to `handler` until the returned function is called. */
  subscribe(filter: SignalFilter, handler: (message: Message) => void): () => void {
    const route = { filter, handler };
    this.routes.add(route);
    return () => {
      this.routes.delete(route);
    };
  }

  /** Calls `listener` whenever the service's owner changes (it started, stopped or restarted). */
  onOwnerChanged(listener: OwnerListener): () => void {
    this.ownerListeners.add(listener);
    return () => {
      this.ownerListeners.delete(listener);
    };
  }

  stop(): void {
    this.unsubscribe?.();
    this.routes.clear();
    this.ownerListeners.clear();
  }
}
