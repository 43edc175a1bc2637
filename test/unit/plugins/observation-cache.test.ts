import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObservationCache, readThrough } from '../../../src/plugins/shared/observation-cache.js';
import { unitNameFromPath, unitPathFromName } from '../../../src/plugins/systemd/unit-path.js';

function enabledCache(clock = { now: 0 }): ObservationCache<string> {
  const cache = new ObservationCache<string>({ maxAgeMs: 1_000, now: () => clock.now });
  cache.enable();
  return cache;
}

/** A read that answers when told to, so a test can change things while it is in flight. */
function deferredRead(): {
  read: (missing: string[]) => Promise<Map<string, string>>;
  asked: string[][];
  answer: (values: Record<string, string>) => void;
} {
  const asked: string[][] = [];
  let answer: (values: Record<string, string>) => void = () => undefined;
  return {
    asked,
    read: (missing) => {
      asked.push(missing);
      return new Promise((resolve) => {
        answer = (values) => resolve(new Map(Object.entries(values)));
      });
    },
    answer: (values) => answer(values),
  };
}

describe('observation cache', () => {
  it('reads only the missing keys, all of them in one read', async () => {
    const cache = enabledCache();
    const asked: string[][] = [];
    const read = (missing: string[]) => {
      asked.push(missing);
      return Promise.resolve(new Map(missing.map((key) => [key, `v-${key}`])));
    };
    await readThrough(cache, ['a', 'b'], read);
    const second = await readThrough(cache, ['a', 'b', 'c'], read);
    assert.deepEqual(asked, [['a', 'b'], ['c']]);
    assert.equal(second.hits, 2);
    assert.equal(second.values.get('c'), 'v-c');
  });

  it('keeps nothing while disabled, and forgets everything when disabled', async () => {
    const cache = new ObservationCache<string>({ maxAgeMs: 1_000 });
    const read = (missing: string[]) => Promise.resolve(new Map(missing.map((k) => [k, k])));
    await readThrough(cache, ['a'], read);
    assert.equal(cache.size, 0);
    cache.enable();
    await readThrough(cache, ['a'], read);
    assert.equal(cache.get('a'), 'a');
    cache.disable();
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
  });

  it('does not keep a key invalidated while its read was in flight', async () => {
    const cache = enabledCache();
    const pending = deferredRead();
    const observing = readThrough(cache, ['a', 'b'], pending.read);
    cache.invalidate(['a']);
    pending.answer({ a: 'stale', b: 'fresh' });
    const { values } = await observing;
    assert.equal(values.get('a'), 'stale', 'the read itself answers with what it read');
    assert.equal(cache.get('a'), undefined, 'but the possibly stale value is not kept');
    assert.equal(cache.get('b'), 'fresh');
  });

  it('keeps nothing of a read that a clear overtook', async () => {
    const cache = enabledCache();
    const pending = deferredRead();
    const observing = readThrough(cache, ['a', 'b'], pending.read);
    cache.clear();
    pending.answer({ a: '1', b: '2' });
    await observing;
    assert.equal(cache.size, 0);
  });

  it('rejects reads in flight without dropping what is kept', async () => {
    const cache = enabledCache();
    await readThrough(cache, ['a'], (m) => Promise.resolve(new Map(m.map((k) => [k, k]))));
    const pending = deferredRead();
    const observing = readThrough(cache, ['a', 'b'], pending.read);
    cache.rejectReadsInFlight();
    pending.answer({ b: 'b' });
    await observing;
    assert.equal(cache.get('a'), 'a');
    assert.equal(cache.get('b'), undefined);
  });

  it('expires entries after maxAgeMs', async () => {
    const clock = { now: 0 };
    const cache = enabledCache(clock);
    await readThrough(cache, ['a'], (m) => Promise.resolve(new Map(m.map((k) => [k, k]))));
    clock.now = 999;
    assert.equal(cache.get('a'), 'a');
    clock.now = 1_001;
    assert.equal(cache.get('a'), undefined);
  });

  it('drops everything when a read fails', async () => {
    const cache = enabledCache();
    await readThrough(cache, ['a'], (m) => Promise.resolve(new Map(m.map((k) => [k, k]))));
    await assert.rejects(
      readThrough(cache, ['b'], () => Promise.reject(new Error('gone'))),
      {
        message: 'gone',
      },
    );
    assert.equal(cache.get('a'), undefined);
  });
});

describe('unit object paths', () => {
  it('escapes as systemd does and round-trips', () => {
    assert.equal(
      unitPathFromName('nginx.service'),
      '/org/freedesktop/systemd1/unit/nginx_2eservice',
    );
    assert.equal(
      unitPathFromName('getty@tty1.service'),
      '/org/freedesktop/systemd1/unit/getty_40tty1_2eservice',
    );
    assert.equal(unitPathFromName('1a.service'), '/org/freedesktop/systemd1/unit/_31a_2eservice');
    for (const name of ['gpg-agent.socket', 'a\\x2db.mount', 'dbus.service'])
      assert.equal(unitNameFromPath(unitPathFromName(name)), name);
  });
});
