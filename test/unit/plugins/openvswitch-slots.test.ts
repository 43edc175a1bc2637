import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import type { OpenvswitchConfig } from '../../../src/plugins/openvswitch/config.js';
import { openvswitchPlugin } from '../../../src/plugins/openvswitch/index.js';
import { planOpenvswitch } from '../../../src/plugins/openvswitch/plan.js';
import { OpenvswitchPlugin } from '../../../src/plugins/openvswitch/plugin.js';
import type { OpenvswitchSection } from '../../../src/plugins/openvswitch/schema.js';
import { waitFor } from '../../harness/processes.js';
import { FakeOvsdb } from '../../helpers/fake-ovsdb.js';
import { EMPTY_STATE } from '../../helpers/openvswitch.js';
import { testContext, testHost } from '../../helpers/plugin-host.js';

const ROOT = '11111111-1111-4111-8111-111111111111';
const INITIAL_ROWS = {
  Open_vSwitch: { [ROOT]: { initial: { bridges: ['set', []], next_cfg: 0, cur_cfg: 0 } } },
};

/**
 * A flood of reads never queues more than a few requests on ovsdb-server's one
 * session, and never the last one: a job's transaction goes out while reads wait.
 */
describe('openvswitch plugin: requests to ovsdb-server are rationed, job first', () => {
  let fake: FakeOvsdb;
  let heldEchos: { socket: Socket; id: unknown }[];
  let releaseEchos = false;

  beforeEach(async () => {
    fake = await FakeOvsdb.start();
    heldEchos = [];
    releaseEchos = false;
    fake.onRequest = (request, socket) => {
      if (request.method === 'monitor_cond') FakeOvsdb.reply(socket, request.id, INITIAL_ROWS);
      if (request.method === 'echo') {
        if (releaseEchos) FakeOvsdb.reply(socket, request.id, request.params);
        else heldEchos.push({ socket, id: request.id });
      }
      if (request.method === 'transact') {
        FakeOvsdb.reply(socket, request.id, [{ error: 'not supported', details: 'by the fake' }]);
      }
    };
  });
  afterEach(() => fake.stop());

  it('holds at most three reads open and lets a job through the fourth slot', async () => {
    const { host } = testHost<OpenvswitchConfig>(openvswitchPlugin, {
      config: { socket: fake.path },
    });
    const plugin = new OpenvswitchPlugin(host, { callTimeoutMs: 10_000 });
    await plugin.start();
    const desired: OpenvswitchSection = { bridges: { br1: { datapath_type: 'netdev' } } };
    try {
      const reads = Array.from({ length: 10 }, () =>
        plugin.observe(desired, testContext(undefined, 'read')),
      );
      await waitFor('the first reads to reach ovsdb-server', () => heldEchos.length === 3);

      const changes = planOpenvswitch(desired, EMPTY_STATE);
      const [outcome] = await plugin.apply(changes, desired, EMPTY_STATE, testContext());
      assert.equal(outcome?.outcome, 'failed');
      // The fake fails the first operation, a guard: reported as someone else's change.
      assert.match(String(outcome?.error), /changed since it was read/);
      const methods = fake.received.map((r) => r.method).filter((m) => m !== 'monitor_cond');
      assert.deepEqual(methods, ['echo', 'echo', 'echo', 'transact']);

      releaseEchos = true;
      for (const { socket, id } of heldEchos) FakeOvsdb.reply(socket, id, []);
      assert.equal((await Promise.all(reads)).length, 10);
      assert.equal(fake.received.filter((r) => r.method === 'echo').length, 10);
    } finally {
      await plugin.stop();
    }
  });
});
