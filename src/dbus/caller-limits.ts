import { ErrorName, OpdbusError } from '../errors.js';
import type { Authorizer } from './authorization.js';

export interface CallerLimitSettings {
  /** Reads (Plan, Query, Verify, ...) one non-root uid may have in flight at once. */
  maxReadsPerUid: number;
  /** The largest document a non-root caller may Plan. */
  maxUnprivilegedDocumentBytes: number;
}

/** Unique bus names are never reused on a bus: a sender's uid can be kept. */
const REMEMBERED_SENDERS = 1024;

/**
 * Fairness for reads, which every local user may make: a uid other than root
 * may have only a few reads in flight, and Plan only documents of a bounded
 * size. A caller over its limit gets org.opdbus.Error.Busy at once, without
 * queueing; root is never limited, and one uid's flood never uses up another
 * uid's share. (The services themselves are protected one level down: each
 * plugin holds a fixed number of calls open, job work first.)
 */
export class CallerLimits {
  private readonly inFlight = new Map<number, number>();
  private readonly uids = new Map<string, number>();

  constructor(
    private readonly settings: CallerLimitSettings,
    private readonly authorizer: Authorizer,
  ) {}

  /** Runs one read for `sender`, or refuses it (Busy, or InvalidDocument for size). */
  async read<T>(sender: string, documentBytes: number, run: () => Promise<T>): Promise<T> {
    const uid = await this.uidOf(sender);
    if (uid === 0) return run();
    if (documentBytes > this.settings.maxUnprivilegedDocumentBytes) {
      throw new OpdbusError(
        ErrorName.InvalidDocument,
        `invalid document (1 problem):\n  /: document is ${documentBytes} bytes; callers other than root may plan at most ${this.settings.maxUnprivilegedDocumentBytes}`,
      );
    }
    const open = this.inFlight.get(uid) ?? 0;
    if (open >= this.settings.maxReadsPerUid) {
      throw new OpdbusError(
        ErrorName.Busy,
        `too many requests from uid ${uid} (${open} in flight, at most ${this.settings.maxReadsPerUid}); retry later`,
      );
    }
    this.inFlight.set(uid, open + 1);
    try {
      return await run();
    } finally {
      const left = (this.inFlight.get(uid) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(uid);
      else this.inFlight.set(uid, left);
    }
  }

  private async uidOf(sender: string): Promise<number> {
    const known = this.uids.get(sender);
    if (known !== undefined) return known;
    const { uid } = await this.authorizer.identify(sender);
    if (this.uids.size >= REMEMBERED_SENDERS)
      this.uids.delete(this.uids.keys().next().value as string);
    this.uids.set(sender, uid);
    return uid;
  }
}
