import type { Logger } from 'pino';
import { callMethod, type Message, type MessageBus } from '../../dbus/bus.js';
import { serviceFailure } from '../../dbus/service-errors.js';
import type { ServicePeer } from '../../dbus/service-peer.js';
import { retryableFailure } from '../../errors.js';
import { Exit, PERCENTAGE_UNKNOWN, statusPhase } from './enums.js';
import { busyOrFailure } from './transaction-error.js';
import { PackageKitError, parsePackageId, type PkPackage } from './transaction-error.js';

export { PackageKitError, type PkPackage } from './transaction-error.js';

export const PACKAGEKIT_NAME = 'org.freedesktop.PackageKit';
const PK_PATH = '/org/freedesktop/PackageKit';
const PK_INTERFACE = 'org.freedesktop.PackageKit';
const TRANSACTION_INTERFACE = 'org.freedesktop.PackageKit.Transaction';
const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';
/** How long a cancelled transaction may take to say Finished before we stop waiting. */
const CANCEL_GRACE_MS = 15_000;

/** What a transaction reports while it runs, for the plugin to turn into Progress. */
export type TransactionEvent =
  | { type: 'status'; phase: string; status: string }
  | { type: 'percentage'; percent: number }
  | { type: 'package'; package: PkPackage }
  | { type: 'item-progress'; id: string; phase: string; percent: number };

interface RunningTransaction {
  packages: PkPackage[];
  error: PackageKitError | undefined;
  settle: (outcome: Error | undefined) => void;
}

/**
 * A thin client for PackageKit's transaction API. Every transaction is created and
 * driven on this one connection (PackageKit binds a transaction to its creator).
 * Its signals come through the PackageKit ServicePeer: only signals from the
 * connection that owns org.freedesktop.PackageKit are believed, so a local user
 * cannot forge a transaction's Finished or ErrorCode.
 */
export class PackageKitClient {
  private readonly running = new Map<string, RunningTransaction>();
  /** Recent transactions of ours, so changes we make are told apart from others'. */
  private readonly own = new Set<string>();
  private unsubscribes: (() => void)[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly peer: ServicePeer,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.peer.start();
    this.unsubscribes = [this.peer.onOwnerChanged((owner) => this.onOwnerChanged(owner))];
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    for (const transaction of this.running.values()) {
      transaction.settle(retryableFailure('PackageKit client stopped'));
    }
  }

  resolve(names: string[], filter: bigint, signal: AbortSignal): Promise<PkPackage[]> {
    return this.run('Resolve', 'tas', [filter, names], signal);
  }

  getPackages(filter: bigint, signal: AbortSignal): Promise<PkPackage[]> {
    return this.run('GetPackages', 't', [filter], signal);
  }

  installPackages(
    ids: string[],
    flags: bigint,
    signal: AbortSignal,
    onEvent: (e: TransactionEvent) => void,
  ): Promise<PkPackage[]> {
    return this.run('InstallPackages', 'tas', [flags, ids], signal, onEvent);
  }

  /**
   * allow_deps false: never remove packages that depend on these (the document
   * did not name them). autoremove: also remove what these pulled in that
   * nothing else needs.
   */
  removePackages(
    ids: string[],
    flags: bigint,
    autoremove: boolean,
    signal: AbortSignal,
    onEvent: (e: TransactionEvent) => void,
  ): Promise<PkPackage[]> {
    return this.run('RemovePackages', 'tasbb', [flags, ids, false, autoremove], signal, onEvent);
  }

  /**
   * Downloads the package lists of every configured repository (apt-get update).
   * force false: apt still fetches what changed, and a repository it has no lists
   * for yet; it only skips the ones that are up to date.
   */
  refreshCache(
    force: boolean,
    signal: AbortSignal,
    onEvent: (e: TransactionEvent) => void,
  ): Promise<PkPackage[]> {
    return this.run('RefreshCache', 'b', [force], signal, onEvent);
  }

  /** PackageKit left (or a new one came): transactions of the old one will never finish. */
  private onOwnerChanged(owner: string | undefined): void {
    if (this.running.size === 0) return;
    this.log.warn({ owner }, 'PackageKit left the bus during a transaction');
    for (const transaction of this.running.values()) {
      transaction.settle(
        retryableFailure(
          'PackageKit exited during the transaction (packagekitd crashed or was stopped)',
        ),
      );
    }
  }

  private rememberOwn(path: string): void {
    this.own.add(path);
    if (this.own.size > 4096) this.own.delete(this.own.values().next().value as string);
  }

  /**
   * Calls `onForeignChange` when a transaction someone else started (pkcon, a
   * desktop updater) has finished, and on UpdatesChanged. Our own transactions
   * are ignored: they would otherwise trigger a check per Resolve, forever.
   */
  watchForeignTransactions(onForeignChange: () => void): () => void {
    let seen = new Set<string>();
    const onList = this.peer.subscribe(
      { path: PK_PATH, interface: PK_INTERFACE, member: 'TransactionListChanged' },
      (message) => {
        const list = Array.isArray(message.body[0]) ? (message.body[0] as unknown[]) : [];
        const current = new Set(list.map(String));
        // Whose a transaction was is decided when it ends: the list can name one
        // of ours before our CreateTransaction's reply has told us its path.
        const finished = [...seen].some((path) => !current.has(path) && !this.own.has(path));
        seen = current;
        if (finished) onForeignChange();
      },
    );
    const onUpdates = this.peer.subscribe(
      { path: PK_PATH, interface: PK_INTERFACE, member: 'UpdatesChanged' },
      () => onForeignChange(),
    );
    return () => {
      onList();
      onUpdates();
    };
  }

  private async createTransaction(signal: AbortSignal): Promise<string> {
    try {
      const [path] = await callMethod(
        this.bus,
        {
          destination: PACKAGEKIT_NAME,
          path: PK_PATH,
          interface: PK_INTERFACE,
          member: 'CreateTransaction',
        },
        { signal },
      );
      this.rememberOwn(String(path));
      return String(path);
    } catch (err) {
      if (signal.aborted) throw err;
      throw busyOrFailure(err);
    }
  }

  /** Runs one transaction to its Finished signal and returns the packages it reported. */
  private async run(
    member: string,
    signature: string,
    body: unknown[],
    signal: AbortSignal,
    onEvent: (event: TransactionEvent) => void = () => undefined,
  ): Promise<PkPackage[]> {
    signal.throwIfAborted();
    const path = await this.createTransaction(signal);
    const log = this.log.child({ transaction: path, method: member });
    let settle: (outcome: Error | undefined) => void = () => undefined;
    const finished = new Promise<Error | undefined>((resolve) => {
      settle = resolve;
    });
    const transaction: RunningTransaction = { packages: [], error: undefined, settle };
    this.running.set(path, transaction);
    const unsubscribe = this.peer.subscribe({ path }, (message) =>
      this.onSignal(transaction, message, onEvent),
    );
    const onAbort = (): void => void this.cancel(path, transaction, log);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await callMethod(this.bus, {
        destination: PACKAGEKIT_NAME,
        path,
        interface: TRANSACTION_INTERFACE,
        member,
        signature,
        body,
      });
      log.debug('transaction started');
      const failure = await finished;
      if (failure) throw failure;
      return transaction.packages;
    } catch (err) {
      if (err instanceof PackageKitError || signal.aborted) throw err;
      throw serviceFailure(`PackageKit ${member}`, err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      unsubscribe();
      this.running.delete(path);
    }
  }

  private async cancel(path: string, transaction: RunningTransaction, log: Logger): Promise<void> {
    log.info('cancelling transaction');
    const giveUp = setTimeout(
      () => transaction.settle(new Error('transaction cancelled')),
      CANCEL_GRACE_MS,
    );
    giveUp.unref();
    try {
      await callMethod(
        this.bus,
        { destination: PACKAGEKIT_NAME, path, interface: TRANSACTION_INTERFACE, member: 'Cancel' },
        5_000,
      );
    } catch (err) {
      log.warn({ err: serviceFailure('PackageKit', err).message }, 'PackageKit refused to cancel');
    }
  }

  private onSignal(
    transaction: RunningTransaction,
    message: Message,
    onEvent: (event: TransactionEvent) => void,
  ): void {
    const body = message.body as unknown[];
    if (message.interface === PROPERTIES_INTERFACE && message.member === 'PropertiesChanged') {
      const changed = (body[1] ?? {}) as Record<string, { value: unknown } | undefined>;
      const status = changed.Status?.value;
      if (typeof status === 'number') onEvent({ type: 'status', ...statusPhase(status) });
      const percent = changed.Percentage?.value;
      if (typeof percent === 'number' && percent !== PERCENTAGE_UNKNOWN)
        onEvent({ type: 'percentage', percent });
      return;
    }
    if (message.interface !== TRANSACTION_INTERFACE) return;
    switch (message.member) {
      case 'Package': {
        const pkg = parsePackageId(Number(body[0]), String(body[1]), String(body[2]));
        transaction.packages.push(pkg);
        onEvent({ type: 'package', package: pkg });
        return;
      }
      case 'ItemProgress': {
        const percent = Number(body[2]);
        if (percent !== PERCENTAGE_UNKNOWN) {
          onEvent({
            type: 'item-progress',
            id: String(body[0]),
            phase: statusPhase(Number(body[1])).phase,
            percent,
          });
        }
        return;
      }
      case 'ErrorCode':
        transaction.error = new PackageKitError(Number(body[0]), String(body[1]));
        return;
      case 'Finished': {
        const exit = Number(body[0]);
        if (exit === Exit.success) transaction.settle(undefined);
        else
          transaction.settle(
            transaction.error ?? new PackageKitError(0, `transaction ended with exit code ${exit}`),
          );
        return;
      }
      case 'Destroy':
        transaction.settle(
          transaction.error ?? new PackageKitError(0, 'transaction destroyed before it finished'),
        );
        return;
      default:
        return;
    }
  }
}
