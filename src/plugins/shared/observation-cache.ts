/**
 * What a plugin last read about its resources, kept until something says it may
 * have changed: a service's signal, a file watch, the plugin's own apply, an
 * error. Correctness before speed, so the rules are one-sided:
 *
 * - A read stores its values only if nothing was invalidated since the read
 *   began (`begin()` takes a token; `store()` checks it). A change that lands
 *   while the service is answering therefore never hides behind the answer.
 * - Entries expire after `maxAgeMs`: the bound for changes nothing announces.
 * - The cache is off until the plugin enables it (its watches are in place) and
 *   turns off again on `disable()` (a watch was lost): then every get misses.
 *
 * A plugin owns its cache; the engine never sees one.
 */
export interface ObservationCacheOptions {
  /** How long an entry may be used without any announcement at all. */
  maxAgeMs: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** Taken when a read begins; `store` refuses values if anything changed since. */
export interface ReadToken {
  readonly generation: number;
}

interface Entry<V> {
  value: V;
  storedAt: number;
}

export class ObservationCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Bumped on every invalidation: the clock tokens are compared against. */
  private generation = 0;
  private clearedAt = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private readsInFlight = 0;
  private enabled = false;
  private readonly now: () => number;

  constructor(private readonly options: ObservationCacheOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The watches that announce change are in place: entries may be kept from now on. */
  enable(): void {
    this.enabled = true;
  }

  /** A watch is lost: nothing cached can be trusted until `enable()` again. */
  disable(): void {
    this.enabled = false;
    this.clear();
  }

  /** The cached value, or undefined when missing, expired or the cache is off. */
  get(key: string): V | undefined {
    if (!this.enabled) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt > this.options.maxAgeMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** The keys of `keys` that must be read from the service. */
  missing(keys: readonly string[]): string[] {
    return keys.filter((key) => this.get(key) === undefined);
  }

  /** Call before asking the service; pass the token to `store` and to `end`. */
  begin(): ReadToken {
    this.readsInFlight += 1;
    return { generation: this.generation };
  }

  /**
   * Keeps what a read returned, except keys invalidated since `token` was taken
   * (all of them after a clear). Returns how many entries were kept.
   */
  store(token: ReadToken, values: Iterable<readonly [string, V]>): number {
    if (!this.enabled || this.clearedAt > token.generation) return 0;
    const storedAt = this.now();
    let kept = 0;
    for (const [key, value] of values) {
      if ((this.invalidatedAt.get(key) ?? 0) > token.generation) continue;
      this.entries.set(key, { value, storedAt });
      kept += 1;
    }
    return kept;
  }

  /** The read of `token` is over (stored, failed or abandoned). */
  end(_token: ReadToken): void {
    this.readsInFlight = Math.max(this.readsInFlight - 1, 0);
    // Invalidation marks only matter to reads in flight.
    if (this.readsInFlight === 0) this.invalidatedAt.clear();
  }

  /** These resources may have changed. */
  invalidate(keys: Iterable<string>): void {
    this.generation += 1;
    for (const key of keys) {
      this.entries.delete(key);
      if (this.readsInFlight > 0) this.invalidatedAt.set(key, this.generation);
    }
  }

  /**
   * Something changed that cannot be tied to a key yet (a resource being read
   * for the first time): reads in flight store nothing; entries stay.
   */
  rejectReadsInFlight(): void {
    if (this.readsInFlight === 0) return;
    this.generation += 1;
    this.clearedAt = this.generation;
  }

  /** Anything may have changed. */
  clear(): void {
    this.generation += 1;
    this.clearedAt = this.generation;
    this.entries.clear();
    this.invalidatedAt.clear();
  }
}

/**
 * Reads `keys` through `cache`: hits come from memory, and all misses are read
 * with ONE call of `readMissing` (one Resolve, one batch of unit reads). A failed
 * read drops the whole cache (when in doubt, forget) and rethrows.
 */
export async function readThrough<V>(
  cache: ObservationCache<V>,
  keys: readonly string[],
  readMissing: (missing: string[]) => Promise<Map<string, V>>,
): Promise<{ values: Map<string, V>; hits: number; misses: number }> {
  const token = cache.begin();
  try {
    const values = new Map<string, V>();
    const missing: string[] = [];
    for (const key of keys) {
      const value = cache.get(key);
      if (value === undefined) missing.push(key);
      else values.set(key, value);
    }
    if (missing.length > 0) {
      let fresh: Map<string, V>;
      try {
        fresh = await readMissing(missing);
      } catch (err) {
        cache.clear();
        throw err;
      }
      cache.store(token, fresh);
      for (const key of missing) {
        const value = fresh.get(key);
        if (value !== undefined) values.set(key, value);
      }
    }
    return { values, hits: keys.length - missing.length, misses: missing.length };
  } finally {
    cache.end(token);
  }
}
