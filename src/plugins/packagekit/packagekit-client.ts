import type { Logger } from 'pino';
import { callMethod, dbusErrorText, type Message, type MessageBus } from '../../dbus/bus.js';
import type { SignalRouter } from '../../dbus/signal-router.js';
import { ErrorName, OpdbusError } from '../../errors.js';
import { Exit, PERCENTAGE_UNKNOWN, statusPhase } from './enums.js';

export const PACKAGEKIT_NAME = 'org.freedesktop.PackageKit';
const PK_NAME = PACKAGEKIT_NAME;
const PK_PATH = '/org/freedesktop/PackageKit';
const PK_INTERFACE = 'org.freedesktop.PackageKit';
const TRANSACTION_INTERFACE = 'org.freedesktop.PackageKit.Transaction';
const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';
/** How long a cancelled transaction may take to say Finished before we stop waiting. */
const CANCEL_GRACE_MS = 15_000;

/** One Package signal: a package id split into its parts. */
export interface PkPackage {
  info: number;
  id: string;
  name: string;
  version: string;
  arch: string;
  data: string;
  summary: string;
}

/** What a transaction reports while it runs, for the plugin to turn into Progress. */
export type TransactionEvent =
  | { type: 'status'; phase: string; status: string }
  | { type: 'percentage'; percent: number }
  | { type: 'package'; package: PkPackage }
  | { type: 'item-progress'; id: string; phase: string; percent: number };

/** A transaction that PackageKit finished with an error, with PackageKit's own words. */
export class PackageKitError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
    this.name = 'PackageKitError';
  }
}

export function parsePackageId(info: number, id: string, summary: string): PkPackage {
  const [name = '', version = '', arch = '', data = ''] = id.split(';');
  return { info, id, name, version, arch, data, summary };
}

interface RunningTransaction {
  packages: PkPackage[];
  error: PackageKitError | undefined;
  settle: (outcome: Error | undefined) => void;
}

/**
 * A thin client for PackageKit's transaction API. Every transaction is created and
 * driven on this one connection (PackageKit binds a transaction to its creator),
 * and its signals arrive through one broad match rule added at start: no match
 * rule per transaction, so nothing leaks however many transactions run.
 */
export class PackageKitClient {
  private readonly running = new Map<string, RunningTransaction>();
  /** Recent transactions of ours, so changes we make are told apart from others'. */
  private readonly own = new Set<string>();
  private unsubscribes: (() => void)[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly router: SignalRouter,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.router.addMatch(`type='signal',sender='${PK_NAME}'`);
    await this.router.addMatch(
      `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${PK_NAME}'`,
    );
    this.unsubscribes = [
      this.router.subscribe(
        { interface: 'org.freedesktop.DBus', member: 'NameOwnerChanged' },
        (message) => this.onNameOwnerChanged(message),
      ),
    ];
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    for (const transaction of this.running.values()) {
      transaction.settle(new OpdbusError(ErrorName.PluginUnavailable, 'PackageKit client stopped'));
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

  removePackages(
    ids: string[],
    flags: bigint,
    signal: AbortSignal,
    onEvent: (e: TransactionEvent) => void,
  ): Promise<PkPackage[]> {
    // allow_deps false: never remove other packages the document did not name.
    return this.run('RemovePackages', 'tasbb', [flags, ids, false, false], signal, onEvent);
  }

  private onNameOwnerChanged(message: Message): void {
    const [name, , newOwner] = message.body as [string, string, string];
    if (name !== PK_NAME || this.running.size === 0) return;
    this.log.warn({ newOwner }, 'PackageKit left the bus during a transaction');
    for (const transaction of this.running.values()) {
      transaction.settle(
        new OpdbusError(
          ErrorName.PluginUnavailable,
          'PackageKit exited during the transaction (packagekitd crashed or was stopped)',
        ),
      );
    }
  }

  private rememberOwn(path: string): void {
    this.own.add(path);
    if (this.own.size > 256) this.own.delete(this.own.values().next().value as string);
  }

  /**
   * Calls `onForeignChange` when a transaction someone else started (pkcon, a
   * desktop updater) has finished, and on UpdatesChanged. Our own transactions
   * are ignored: they would otherwise trigger a check per Resolve, forever.
   */
  watchForeignTransactions(onForeignChange: () => void): () => void {
    let seen = new Set<string>();
    const onList = this.router.subscribe(
      { path: PK_PATH, interface: PK_INTERFACE, member: 'TransactionListChanged' },
      (message) => {
        const current = new Set(
          (message.body[0] as string[]).filter((path) => !this.own.has(path)),
        );
        const finished = [...seen].some((path) => !current.has(path));
        seen = current;
        if (finished) onForeignChange();
      },
    );
    const onUpdates = this.router.subscribe(
      { path: PK_PATH, interface: PK_INTERFACE, member: 'UpdatesChanged' },
      () => onForeignChange(),
    );
    return () => {
      onList();
      onUpdates();
    };
  }

  private async createTransaction(): Promise<string> {
    try {
      const [path] = await callMethod(this.bus, {
        destination: PK_NAME,
        path: PK_PATH,
        interface: PK_INTERFACE,
        member: 'CreateTransaction',
      });
      this.rememberOwn(String(path));
      return String(path);
    } catch (err) {
      if (err instanceof OpdbusError) throw err;
      throw new OpdbusError(
        ErrorName.PluginUnavailable,
        `PackageKit is not reachable: ${dbusErrorText(err)}`,
      );
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
    const path = await this.createTransaction();
    const log = this.log.child({ transaction: path, method: member });
    let settle: (outcome: Error | undefined) => void = () => undefined;
    const finished = new Promise<Error | undefined>((resolve) => {
      settle = resolve;
    });
    const transaction: RunningTransaction = { packages: [], error: undefined, settle };
    this.running.set(path, transaction);
    const unsubscribe = this.router.subscribe({ path }, (message) =>
      this.onSignal(transaction, message, onEvent),
    );
    const onAbort = (): void => void this.cancel(path, transaction, log);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await callMethod(this.bus, {
        destination: PK_NAME,
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
      if (err instanceof OpdbusError || err instanceof PackageKitError) throw err;
      throw new OpdbusError(
        ErrorName.PluginUnavailable,
        `PackageKit ${member} failed: ${dbusErrorText(err)}`,
      );
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
        { destination: PK_NAME, path, interface: TRANSACTION_INTERFACE, member: 'Cancel' },
        5_000,
      );
    } catch (err) {
      log.warn({ err: dbusErrorText(err) }, 'PackageKit refused to cancel');
    }
  }

  private onSignal(
    transaction: RunningTransaction,
    message: Message,
    onEvent: (event: TransactionEvent) => void,
  ): void {
    const body = message.body as unknown[];
    if (message.interface === PROPERTIES_INTERFACE && message.member === 'PropertiesChanged') {
      const changed = body[1] as Record<string, { value: unknown }>;
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
