import type {
  Etcd3,
  IEvent,
  IRequestStream,
  IResponseStream,
  IWatchRequest,
  IWatchResponse,
} from 'etcd3';
import { Backoff, etcdErrorText, revisionOf } from './etcd-client.js';

/** One key, or every key in [key, rangeEnd). */
export interface WatchedRange {
  readonly key: string;
  readonly rangeEnd?: Buffer;
}

export interface KeyWatchHandlers {
  /** Events of one range, in revision order. */
  events(rangeIndex: number, events: readonly IEvent[]): void;
  /** Every range is watched again (first time, or resumed after a disconnect). */
  connected(): void;
  /** The stream broke; the watch resumes by itself from the last seen revisions. */
  disconnected(reason: string): void;
  /**
   * etcd cancelled a range: its revision was compacted away, or permission was
   * refused. The watch has stopped; the owner must read from scratch.
   */
  cancelled(reason: string, compactRevision: number): void;
}

type WatchStream = IRequestStream<IWatchRequest> & IResponseStream<IWatchResponse>;

// Streams are closed with end(), never cancel(): etcd3 treats a cancelled stream's
// CANCELLED error as a failed host and closes every channel to it (markFailed).

/**
 * One etcd watch stream for a few ranges (one watch per node, however many keys),
 * written on etcd's raw Watch RPC rather than etcd3's Watcher: etcd3 1.1.2 moves a
 * watcher's resume point to the `created` response's header revision before the
 * replayed events arrive (a drop in between loses them), hides `compact_revision`,
 * and keeps reconnecting after the client is closed. Here each range resumes from
 * the revision after the last event it delivered, or after a progress notice.
 */
export class KeyWatch {
  private readonly next: number[];
  private readonly created = new Set<number>();
  private stream: WatchStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private broken = false;

  constructor(
    private readonly client: Etcd3,
    private readonly ranges: readonly WatchedRange[],
    startRevision: number,
    private readonly handlers: KeyWatchHandlers,
    private readonly backoff: Backoff,
  ) {
    this.next = ranges.map(() => startRevision);
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stream?.end();
    this.stream = undefined;
  }

  /** The revision each range will resume from. */
  resumeRevisions(): readonly number[] {
    return [...this.next];
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.broken = false;
    this.created.clear();
    let stream: WatchStream;
    try {
      // A unary call first: etcd3 renews an expired auth token only on unary calls.
      await this.client.kv.range({
        key: Buffer.from(this.ranges[0]?.key ?? '/'),
        count_only: true,
      });
      stream = await this.client.watchClient.watch();
    } catch (err) {
      this.fail(etcdErrorText(err));
      return;
    }
    if (this.stopped) {
      stream.end();
      return;
    }
    this.stream = stream;
    stream.on('data', (response) => this.receive(stream, response));
    stream.on('error', (err) => this.streamBroke(stream, etcdErrorText(err)));
    stream.on('end', () => this.streamBroke(stream, 'watch stream ended'));
    this.ranges.forEach((range, index) => {
      stream.write({
        create_request: {
          key: Buffer.from(range.key),
          ...(range.rangeEnd ? { range_end: range.rangeEnd } : {}),
          start_revision: this.next[index],
          progress_notify: true,
          watch_id: index + 1,
        },
      });
    });
  }

  private receive(stream: WatchStream, response: IWatchResponse): void {
    if (this.stopped || stream !== this.stream) return;
    const index = Number(response.watch_id) - 1;
    if (response.canceled) {
      this.stopStream();
      const compacted = revisionOf(response.compact_revision);
      const reason =
        compacted > 0 ? `revision compacted (now ${compacted})` : response.cancel_reason;
      this.handlers.cancelled(reason || 'watch cancelled by etcd', compacted);
      return;
    }
    if (index < 0 || index >= this.ranges.length) return;
    if (response.created) {
      this.created.add(index);
      if (this.created.size === this.ranges.length) {
        this.backoff.reset();
        this.handlers.connected();
      }
      return;
    }
    const events = response.events ?? [];
    if (events.length === 0) {
      // A progress notice: everything up to the header's revision has been sent.
      this.advance(index, revisionOf(response.header.revision) + 1);
      return;
    }
    const last = events[events.length - 1];
    this.advance(index, revisionOf(last?.kv.mod_revision) + 1);
    this.handlers.events(index, events);
  }

  private advance(index: number, revision: number): void {
    this.next[index] = Math.max(this.next[index] ?? 0, revision);
  }

  private stopStream(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const stream = this.stream;
    this.stream = undefined;
    stream?.end();
  }

  private streamBroke(stream: WatchStream, reason: string): void {
    if (this.stopped || stream !== this.stream || this.broken) return;
    this.broken = true;
    this.stream = undefined;
    this.fail(reason);
  }

  private fail(reason: string): void {
    if (this.stopped) return;
    this.handlers.disconnected(reason);
    this.timer = setTimeout(() => void this.connect(), this.backoff.next());
  }
}
