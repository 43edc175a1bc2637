import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Authorizer } from '../../../src/dbus/authorization.js';
import { CallerLimits } from '../../../src/dbus/caller-limits.js';
import { ErrorName, OpdbusError } from '../../../src/errors.js';

/** The bus's answer to "who is this sender": from a table, counting the questions. */
function fakeAuthorizer(uids: Record<string, number>): Authorizer & { asked: number } {
  const fake = {
    asked: 0,
    identify(sender: string) {
      fake.asked += 1;
      return Promise.resolve({ sender, uid: uids[sender] ?? 65534 });
    },
  };
  return fake as unknown as Authorizer & { asked: number };
}

const busy = (err: unknown) => err instanceof OpdbusError && err.dbusName === ErrorName.Busy;

describe('caller limits for reads', () => {
  const settings = { maxReadsPerUid: 2, maxUnprivilegedDocumentBytes: 1000 };

  it('refuses a non-root uid past its reads in flight with Busy, and frees them as they end', async () => {
    const limits = new CallerLimits(settings, fakeAuthorizer({ ':1.9': 65534 }));
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = limits.read(':1.9', 0, () => held);
    const second = limits.read(':1.9', 0, () => held);
    await assert.rejects(
      limits.read(':1.9', 0, () => Promise.resolve()),
      (err) => busy(err) && /too many requests from uid 65534/.test((err as Error).message),
    );
    release();
    await Promise.all([first, second]);
    await limits.read(':1.9', 0, () => Promise.resolve());
  });

  it("never limits root, and one uid's flood leaves another uid's share alone", async () => {
    const limits = new CallerLimits(
      settings,
      fakeAuthorizer({ ':1.1': 0, ':1.9': 65534, ':1.7': 1000 }),
    );
    const hold = new Promise<void>(() => undefined);
    void limits.read(':1.9', 0, () => hold);
    void limits.read(':1.9', 0, () => hold);
    await assert.rejects(
      limits.read(':1.9', 0, () => Promise.resolve()),
      busy,
    );
    for (let i = 0; i < 10; i += 1) void limits.read(':1.1', 0, () => hold);
    assert.equal(await limits.read(':1.1', 5000, () => Promise.resolve('root')), 'root');
    assert.equal(await limits.read(':1.7', 0, () => Promise.resolve('other')), 'other');
  });

  it('refuses a non-root Plan of a document over the size limit, naming the limit', async () => {
    const limits = new CallerLimits(settings, fakeAuthorizer({}));
    await assert.rejects(
      limits.read(':1.9', 1001, () => Promise.resolve()),
      (err) =>
        err instanceof OpdbusError &&
        err.dbusName === ErrorName.InvalidDocument &&
        /callers other than root may plan at most 1000/.test(err.message),
    );
  });

  it('asks the bus who a sender is once (unique names are never reused)', async () => {
    const authorizer = fakeAuthorizer({ ':1.9': 65534 });
    const limits = new CallerLimits(settings, authorizer);
    for (let i = 0; i < 5; i += 1) await limits.read(':1.9', 0, () => Promise.resolve());
    assert.equal(authorizer.asked, 1);
  });
});
