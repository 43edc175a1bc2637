import { abortable } from '../shared/service-slots.js';
import type { PkPackage } from './transaction-error.js';

/** Names per Resolve at most (one Resolve of 200 names takes about as long as one of 1). */
const MAX_NAMES = 2_000;

interface Batch {
  names: Set<string>;
  /** Settles once the batch's Resolve has answered. */
  done: Promise<PkPackage[]>;
  /** False once the batch's Resolve has taken its names: later names go to the next batch. */
  open: boolean;
}

/**
 * Coalesces the Resolves of concurrent readers (Plan, Verify of local users).
 * A name already being resolved joins that Resolve; other names gather in the
 * next batch, which takes its names only when `run` is ready to send them (a
 * slot is free). However many Plans arrive at once, each name costs at most
 * one transaction, and reads hold at most the slots they are given.
 */
export class ResolveBatcher {
  private next: Batch | undefined;
  private readonly inFlight = new Map<string, Promise<PkPackage[]>>();

  /** `run` resolves the names `takeNames()` returns once it is ready to send them. */
  constructor(private readonly run: (takeNames: () => string[]) => Promise<PkPackage[]>) {}

  /** The packages Resolve reports for `names`; stops waiting (only) when `signal` fires. */
  async resolve(names: readonly string[], signal: AbortSignal): Promise<PkPackage[]> {
    const answers = new Set<Promise<PkPackage[]>>();
    for (const name of names) answers.add(this.inFlight.get(name) ?? this.enqueue(name));
    const wanted = new Set(names);
    const packages = await abortable(
      Promise.all(answers).then((lists) => lists.flat()),
      signal,
    );
    return packages.filter((pkg) => wanted.has(pkg.name));
  }

  private enqueue(name: string): Promise<PkPackage[]> {
    if (!this.next?.open || this.next.names.size >= MAX_NAMES) this.next = this.newBatch();
    this.next.names.add(name);
    this.inFlight.set(name, this.next.done);
    return this.next.done;
  }

  private newBatch(): Batch {
    const batch: Batch = { names: new Set(), open: true, done: Promise.resolve([]) };
    // Everyone who asks in this turn of the event loop joins; then the batch
    // waits for `run` to take its names (more may join meanwhile).
    batch.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.run(() => {
        batch.open = false;
        return [...batch.names];
      }),
    );
    void batch.done
      .catch(() => undefined)
      .finally(() => {
        for (const name of batch.names)
          if (this.inFlight.get(name) === batch.done) this.inFlight.delete(name);
      });
    return batch;
  }
}
