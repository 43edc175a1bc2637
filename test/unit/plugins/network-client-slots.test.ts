import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { Variant, type Message, type MessageBus } from '../../../src/dbus/bus.js';
import { BusConnection } from '../../../src/dbus/bus-connection.js';
import { NETWORK_CONFIG_DEFAULTS } from '../../../src/plugins/network/config.js';
import { networkPlugin } from '../../../src/plugins/network/index.js';
import type { NmCallOptions } from '../../../src/plugins/network/nm-client.js';
import { NmClient } from '../../../src/plugins/network/nm-client.js';
import type { NetworkPlugin } from '../../../src/plugins/network/plugin.js';
import { silentLog, testContext } from '../../helpers/plugin-host.js';

/**
 * A bus whose NetworkManager answers only when the test says so: every call to
 * it is held, so the test sees how many the plugin has open at once and in
 * which order they were sent. The bus driver answers at once.
 */
class HeldBus extends EventEmitter {
  readonly sent: { member: string; path: string; release: () => void }[] = [];

  call(message: Message): Promise<{ body: unknown[] }> {
    if (message.destination === 'org.freedesktop.DBus') {
      return Promise.resolve({ body: message.member === 'GetNameOwner' ? [':1.7'] : [] });
    }
    return new Promise((resolve) => {
      this.sent.push({
        member: message.member ?? '',
        path: message.path ?? '',
        release: () => resolve({ body: this.reply(message) }),
      });
    });
  }

  /** An empty NetworkManager: no devices, no profiles, no global DNS. */
  private reply(message: Message): unknown[] {
    if (message.member === 'Get') return [new Variant('a{sv}', {})];
    if (message.member === 'GetAll') return [{}];
    return [[]];
  }

  open(): number {
    return this.sent.length;
  }

  /** Answers the calls sent so far (or the first `count`). */
  releaseAll(count = this.sent.length): void {
    for (const call of this.sent.splice(0, count)) call.release();
  }
}

const asBus = (bus: HeldBus): MessageBus => bus as unknown as MessageBus;
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('network: calls to NetworkManager are bounded, job work first, reads shared', () => {
  it('holds at most its slots open; reads never take the last one; a waiting job goes before waiting reads', async () => {
    const bus = new HeldBus();
    const client = new NmClient(asBus(bus), 10_000, 4);
    const signal = new AbortController().signal;
    const read: NmCallOptions = { signal, priority: 'read' };
    const reads = Array.from({ length: 10 }, (_, i) => client.deviceProperties(`/read/${i}`, read));
    await flush();
    assert.equal(bus.open(), 3, 'reads leave the last slot free');
    const job = client.deviceProperties('/job/1', { signal, priority: 'job' });
    await flush();
    assert.equal(bus.open(), 4, 'the job takes the free slot at once');
    const laterJob = client.deviceProperties('/job/2', { signal, priority: 'job' });
    await flush();
    assert.equal(bus.open(), 4, 'never more than the slots');
    bus.releaseAll(1);
    await flush();
    assert.deepEqual(
      bus.sent.map((call) => call.path),
      ['/read/1', '/read/2', '/job/1', '/job/2'],
      'the freed slot went to the waiting job, not to a waiting read',
    );
    assert.equal(client.slots.inUse, 4);
    assert.equal(client.slots.waiting, 7, 'seven reads still wait: the waiting job went first');
    while (bus.open() > 0) {
      bus.releaseAll();
      await flush();
    }
    await Promise.all([...reads, job, laterJob]);
    assert.equal(client.slots.inUse, 0);
  });

  it('concurrent reads for Plan, Query and Verify share one NetworkManager read; job work reads afresh', async () => {
    const bus = new HeldBus();
    const connection = new BusConnection(asBus(bus), silentLog);
    const plugin = networkPlugin.create({
      log: silentLog,
      config: NETWORK_CONFIG_DEFAULTS,
      connect: () => Promise.resolve(connection),
      stateDir: '/nonexistent',
    }) as NetworkPlugin;
    await plugin.start();
    const reads = [
      plugin.observe({}, testContext(undefined, 'read')),
      plugin.observe({}, testContext(undefined, 'read')),
      plugin.query(testContext(undefined, 'read')),
    ];
    await flush();
    const listings = () => bus.sent.filter((call) => call.member === 'GetAllDevices').length;
    assert.equal(listings(), 1, 'three readers, one read');
    const job = plugin.observe({}, testContext(undefined, 'job'));
    await flush();
    assert.equal(listings(), 2, 'the job does not join a read that began before it');
    while (bus.open() > 0) {
      bus.releaseAll();
      await flush();
    }
    const [first, second, section] = await Promise.all(reads);
    assert.deepEqual(first, second);
    assert.deepEqual(section?.interfaces, []);
    await job;
    await plugin.stop();
    connection.stop();
  });
});
