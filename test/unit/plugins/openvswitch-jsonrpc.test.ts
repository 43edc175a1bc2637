import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { PluginFailure } from '../../../src/errors.js';
import { OvsdbClient, type ReplicaEvent } from '../../../src/plugins/openvswitch/ovsdb/client.js';
import {
  JsonRpcConnection,
  OvsdbRpcError,
} from '../../../src/plugins/openvswitch/ovsdb/json-rpc.js';
import { waitFor } from '../../harness/processes.js';
import { FakeOvsdb } from '../../helpers/fake-ovsdb.js';
import { silentLog } from '../../helpers/plugin-host.js';

const log = silentLog;
const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const TABLES = { Bridge: { name: { kind: 'atom', type: 'string' } } } as const;

function isRetryable(err: unknown): boolean {
  return err instanceof PluginFailure && err.kind === 'retryable';
}

async function open(fake: FakeOvsdb, closes: Error[] = [], timeoutMs = 2_000) {
  return JsonRpcConnection.open(
    fake.path,
    { onNotification: () => undefined, onClose: (reason) => closes.push(reason) },
    { timeoutMs, maxMessageBytes: 1024 * 1024 },
  );
}

describe('OVSDB JSON-RPC connection', () => {
  let fake: FakeOvsdb;
  beforeEach(async () => {
    fake = await FakeOvsdb.start();
  });
  afterEach(() => fake.stop());

  it("answers the server's echo with the same params and id", async () => {
    const connection = await open(fake);
    await waitFor('the connection', () => fake.sockets.size === 1);
    fake.sendRaw('{"method":"echo","params":["probe",1],"id":"echo"}');
    await waitFor('the echo reply', () => fake.replies.length === 1);
    assert.deepEqual(fake.replies[0], { id: 'echo', result: ['probe', 1], error: null });
    connection.close();
  });

  it('matches replies to requests by id, in whatever order they come', async () => {
    fake.onRequest = (request, socket) => {
      if (request.method === 'second') FakeOvsdb.reply(socket, request.id, 'two');
      if (request.method === 'second') {
        const first = fake.received.find((r) => r.method === 'first');
        FakeOvsdb.reply(socket, first?.id, 'one');
      }
    };
    const connection = await open(fake);
    const first = connection.request('first', [], { timeoutMs: 2_000 });
    const second = connection.request('second', [], { timeoutMs: 2_000 });
    assert.deepEqual(await Promise.all([first, second]), ['one', 'two']);
    connection.close();
  });

  it('turns an error reply into an OvsdbRpcError with the server words', async () => {
    fake.onRequest = (request, socket) =>
      FakeOvsdb.reply(socket, request.id, null, { error: 'unknown database', details: 'nope' });
    const connection = await open(fake);
    await assert.rejects(
      connection.request('transact', ['X'], { timeoutMs: 2_000 }),
      (err: unknown) => err instanceof OvsdbRpcError && /unknown database: nope/.test(err.message),
    );
    connection.close();
  });

  it('times a call out as a retryable failure, and ignores the late answer', async () => {
    let late: (() => void) | undefined;
    fake.onRequest = (request, socket) => {
      late = () => FakeOvsdb.reply(socket, request.id, 'late');
    };
    const connection = await open(fake);
    await assert.rejects(connection.request('slow', [], { timeoutMs: 100 }), (err: unknown) => {
      return isRetryable(err) && /did not answer slow within 100 ms/.test(String(err));
    });
    late?.();
    fake.onRequest = (request, socket) => FakeOvsdb.reply(socket, request.id, 'fresh');
    assert.equal(await connection.request('next', [], { timeoutMs: 2_000 }), 'fresh');
    connection.close();
  });

  it('gives up a call when its signal aborts, with the reason', async () => {
    const connection = await open(fake);
    const controller = new AbortController();
    const call = connection.request('hangs', [], { timeoutMs: 10_000, signal: controller.signal });
    controller.abort(new Error('job cancelled'));
    await assert.rejects(call, /job cancelled/);
    connection.close();
  });

  it('fails pending calls as retryable and reports the close once when the server goes', async () => {
    const closes: Error[] = [];
    const connection = await open(fake, closes);
    const call = connection.request('hangs', [], { timeoutMs: 10_000 });
    await waitFor('the request', () => fake.received.length === 1);
    await fake.close();
    await assert.rejects(
      call,
      (err: unknown) => isRetryable(err) && /connection lost/.test(String(err)),
    );
    await waitFor('the close notice', () => closes.length > 0);
    assert.equal(closes.length, 1);
    assert.equal(connection.isOpen, false);
  });

  it('hangs up on a stream that breaks the framing', async () => {
    const closes: Error[] = [];
    const connection = await open(fake, closes);
    await waitFor('the connection', () => fake.sockets.size === 1);
    fake.sendRaw('{"id":1,"result":null,"error":null} garbage');
    await waitFor('the close', () => closes.length === 1);
    assert.match(closes[0]?.message ?? '', /protocol error/);
    assert.equal(connection.isOpen, false);
  });

  it('reports an absent socket as a retryable "unavailable" failure naming the path', async () => {
    await fake.close();
    await assert.rejects(open(fake), (err: unknown) => {
      return isRetryable(err) && String(err).includes(`unavailable at ${fake.path}`);
    });
  });
});

describe('OVSDB client', () => {
  let fake: FakeOvsdb;
  let initialRows: Record<string, unknown>;
  beforeEach(async () => {
    fake = await FakeOvsdb.start();
    initialRows = { Bridge: { [U1]: { initial: { name: 'br0' } } } };
    fake.onRequest = (request, socket) => {
      if (request.method === 'monitor_cond') FakeOvsdb.reply(socket, request.id, initialRows);
      if (request.method === 'echo') FakeOvsdb.reply(socket, request.id, request.params);
    };
  });
  afterEach(() => fake.stop());

  function client(): OvsdbClient {
    return new OvsdbClient({
      socketPath: fake.path,
      database: 'Open_vSwitch',
      tables: TABLES,
      log,
      callTimeoutMs: 2_000,
      backoff: { initialMs: 20, maxMs: 100 },
    });
  }

  function bridgeNames(ovsdb: OvsdbClient): string[] {
    return [...ovsdb.replica.rows('Bridge').values()]
      .map((row) => (typeof row.name === 'string' ? row.name : '?'))
      .sort();
  }

  it('applies an update2 that arrives in the same chunk as the monitor reply', async () => {
    fake.onRequest = (request, socket) => {
      if (request.method === 'echo') FakeOvsdb.reply(socket, request.id, []);
      if (request.method !== 'monitor_cond') return;
      const update = {
        method: 'update2',
        params: ['op-dbus', { Bridge: { [U2]: { insert: { name: 'br1' } } } }],
        id: null,
      };
      socket.write(
        JSON.stringify({ id: request.id, result: initialRows, error: null }) +
          JSON.stringify(update),
      );
    };
    const ovsdb = client();
    ovsdb.start();
    await ovsdb.sync();
    assert.deepEqual(bridgeNames(ovsdb), ['br0', 'br1']);
    ovsdb.stop();
  });

  it('fails as retryable while ovsdb-server is absent, then connects once it is there', async () => {
    await fake.close();
    const ovsdb = client();
    ovsdb.start();
    await assert.rejects(
      ovsdb.sync(),
      (err: unknown) => isRetryable(err) && /unavailable at/.test(String(err)),
    );
    await fake.listen();
    await waitFor('the background reconnect', () => ovsdb.connected, 5_000);
    await ovsdb.sync();
    assert.deepEqual(bridgeNames(ovsdb), ['br0']);
    ovsdb.stop();
  });

  it('reconnects after the connection drops and rebuilds the replica from the new monitor', async () => {
    const ovsdb = client();
    const events: ReplicaEvent['kind'][] = [];
    ovsdb.subscribe((event) => events.push(event.kind));
    ovsdb.start();
    await ovsdb.sync();
    initialRows = { Bridge: { [U2]: { initial: { name: 'br-new' } } } };
    for (const socket of fake.sockets) socket.destroy();
    await waitFor('the rebuilt replica', () => bridgeNames(ovsdb).includes('br-new'), 5_000);
    assert.deepEqual(bridgeNames(ovsdb), ['br-new']);
    assert.deepEqual(events, ['reset', 'lost', 'reset']);
    assert.equal(fake.received.filter((r) => r.method === 'monitor_cond').length, 2);
    ovsdb.stop();
  });

  it('drops a connection whose update does not validate, and starts over', async () => {
    const ovsdb = client();
    ovsdb.start();
    await ovsdb.sync();
    fake.sendRaw(
      JSON.stringify({
        method: 'update2',
        params: ['op-dbus', { Bridge: { [U2]: { insert: { name: 7 } } } }],
        id: null,
      }),
    );
    await waitFor(
      'a second monitor',
      () => fake.received.filter((r) => r.method === 'monitor_cond').length === 2,
      5_000,
    );
    await ovsdb.sync();
    assert.deepEqual(bridgeNames(ovsdb), ['br0']);
    ovsdb.stop();
  });

  it('fails a wait on the replica when the connection is lost', async () => {
    const ovsdb = client();
    ovsdb.start();
    await ovsdb.sync();
    const waiting = ovsdb.waitFor('never', () => false, { timeoutMs: 10_000 });
    for (const socket of fake.sockets) socket.destroy();
    await assert.rejects(
      waiting,
      (err: unknown) => isRetryable(err) && /connection lost/.test(String(err)),
    );
    ovsdb.stop();
  });
});
