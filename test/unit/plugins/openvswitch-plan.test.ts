import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planOpenvswitch } from '../../../src/plugins/openvswitch/plan.js';
import type { BridgeSpec, OpenvswitchSection } from '../../../src/plugins/openvswitch/schema.js';
import type { OvsState } from '../../../src/plugins/openvswitch/state.js';
import { buildState, EMPTY_STATE, type BridgeFixture } from '../../helpers/openvswitch.js';

function actions(desired: OpenvswitchSection, state: OvsState): string[] {
  return planOpenvswitch(desired, state).map((change) => `${change.resource} ${change.action}`);
}

function oneBridge(spec: BridgeSpec, fixture?: BridgeFixture): string[] {
  const state = fixture === undefined ? EMPTY_STATE : buildState({ br0: fixture });
  return actions({ bridges: { br0: spec } }, state);
}

describe('openvswitch planning (pure)', () => {
  it('plans a new bridge and each of its ports, bridge first, in document order', () => {
    const spec: BridgeSpec = {
      datapath_type: 'netdev',
      ports: {
        mgmt: { interface: { type: 'internal' }, tag: 10 },
        eth1: { interface: { type: 'system' } },
        'patch-a': { interface: { type: 'patch', options: { peer: 'patch-b' } } },
      },
    };
    assert.deepEqual(oneBridge(spec), [
      'br0 create',
      'br0/mgmt create',
      'br0/eth1 create',
      'br0/patch-a create',
    ]);
  });

  const bridgeTable: [string, BridgeSpec, BridgeFixture, string][] = [
    ['as desired', { datapath_type: 'netdev' }, { datapathType: 'netdev' }, 'none'],
    ["'' is the system datapath", { datapath_type: 'system' }, { datapathType: '' }, 'none'],
    ['other datapath', { datapath_type: 'netdev' }, { datapathType: 'system' }, 'update'],
    ['fail_mode unset', { fail_mode: 'secure' }, { failMode: null }, 'update'],
    ['stp differs', { stp_enable: true }, { stpEnable: false }, 'update'],
    ['fields left out are left alone', {}, { datapathType: '', failMode: 'secure' }, 'none'],
    [
      'external_ids: other keys are not ours to judge',
      { external_ids: { owner: 'op-dbus' } },
      { externalIds: { owner: 'op-dbus', 'someone-else': 'x' } },
      'none',
    ],
    [
      'external_ids: a named key differs',
      { external_ids: { owner: 'op-dbus' } },
      { externalIds: { owner: 'me' } },
      'update',
    ],
    ['absent and present: remove', { ensure: 'absent' }, {}, 'remove'],
  ];
  for (const [title, spec, fixture, expected] of bridgeTable) {
    it(`bridge: ${title} -> ${expected}`, () => {
      assert.deepEqual(oneBridge(spec, fixture), [`br0 ${expected}`]);
    });
  }

  it('plans nothing to remove for an absent bridge that does not exist', () => {
    assert.deepEqual(oneBridge({ ensure: 'absent' }), ['br0 none']);
  });

  it('never plans a bridge the document does not name', () => {
    const state = buildState({ other: { ports: { p9: {} } }, br0: {} });
    assert.deepEqual(actions({ bridges: { br0: {} } }, state), ['br0 none']);
  });

  const portTable: [string, BridgeSpec['ports'], BridgeFixture['ports'], string][] = [
    [
      'as desired',
      { p1: { interface: { type: 'internal' }, tag: 5 } },
      { p1: { type: 'internal', tag: 5 } },
      'none',
    ],
    ['tag changes', { p1: { tag: 20 } }, { p1: { tag: 10 } }, 'update'],
    ['tag null removes a tag', { p1: { tag: null } }, { p1: { tag: 10 } }, 'update'],
    ['tag left out is left alone', { p1: {} }, { p1: { tag: 10 } }, 'none'],
    ["type '' is system", { p1: { interface: { type: 'system' } } }, { p1: { type: '' } }, 'none'],
    ['type changes', { p1: { interface: { type: 'internal' } } }, { p1: { type: '' } }, 'update'],
    [
      'options are the whole map',
      { p1: { interface: { options: { peer: 'x' } } } },
      { p1: { options: { peer: 'x', extra: '1' } } },
      'update',
    ],
    ['options left out are left alone', { p1: {} }, { p1: { options: { peer: 'x' } } }, 'none'],
    ['absent and present: remove', { p1: { ensure: 'absent' } }, { p1: {} }, 'remove'],
    ['absent and absent: nothing', { p1: { ensure: 'absent' } }, {}, 'none'],
    ['missing: create', { p1: {} }, {}, 'create'],
    [
      'a bond cannot be described',
      { p1: {} },
      { p1: { extraInterfaces: ['p1b'] } },
      'unresolvable',
    ],
  ];
  for (const [title, ports, fixturePorts, expected] of portTable) {
    it(`port: ${title} -> ${expected}`, () => {
      const plan = oneBridge({ ports }, { ports: fixturePorts });
      assert.deepEqual(plan, ['br0 none', `br0/p1 ${expected}`]);
    });
  }

  it('removes unnamed ports only with exclusive_ports, never the local port, and says why', () => {
    const fixture: BridgeFixture = { ports: { keep: {}, stray: { externalIds: {} } } };
    const ports = { keep: {} };
    assert.deepEqual(oneBridge({ ports }, fixture), ['br0 none', 'br0/keep none']);
    const plan = planOpenvswitch(
      { bridges: { br0: { ports, exclusive_ports: true } } },
      buildState({ br0: fixture }),
    );
    assert.deepEqual(
      plan.map((change) => `${change.resource} ${change.action}`),
      ['br0 none', 'br0/keep none', 'br0/stray remove'],
    );
    assert.match(plan[2]?.reason ?? '', /exclusive_ports \(not created by op-dbus\)/);
  });

  it('removes a bridge with the ports the document names on it', () => {
    const state = buildState({ br0: { ports: { p1: {} } } });
    const plan = actions(
      { bridges: { br0: { ensure: 'absent', ports: { p1: { ensure: 'absent' } } } } },
      state,
    );
    assert.deepEqual(plan, ['br0 remove', 'br0/p1 remove']);
  });

  it('refuses a port wanted present on a bridge wanted absent', () => {
    const plan = planOpenvswitch(
      { bridges: { br0: { ensure: 'absent', ports: { p1: {} } } } },
      EMPTY_STATE,
    );
    assert.equal(plan[1]?.action, 'unresolvable');
    assert.match(plan[1]?.reason ?? '', /bridge is to be absent/);
  });

  it('moves a port from another bridge the document names, and refuses one from a bridge it does not', () => {
    const state = buildState({ br0: {}, br1: { ports: { p1: {} } } });
    assert.deepEqual(actions({ bridges: { br0: { ports: { p1: {} } }, br1: {} } }, state), [
      'br0 none',
      'br0/p1 move',
      'br1 none',
    ]);
    const [, change] = planOpenvswitch({ bridges: { br0: { ports: { p1: {} } } } }, state);
    assert.equal(change?.action, 'unresolvable');
    assert.match(change?.reason ?? '', /on bridge br1, which the document does not name/);
  });

  it('does not plan an exclusive removal of a port another named bridge takes', () => {
    const state = buildState({ br0: {}, br1: { ports: { p1: {} } } });
    const desired: OpenvswitchSection = {
      bridges: { br0: { ports: { p1: {} } }, br1: { exclusive_ports: true } },
    };
    assert.deepEqual(actions(desired, state), ['br0 none', 'br0/p1 move', 'br1 none']);
  });

  it('refuses the same port named on two bridges', () => {
    const plan = actions(
      { bridges: { br0: { ports: { p1: {} } }, br1: { ports: { p1: {} } } } },
      EMPTY_STATE,
    );
    assert.deepEqual(plan, [
      'br0 create',
      'br0/p1 unresolvable',
      'br1 create',
      'br1/p1 unresolvable',
    ]);
  });

  it('shows what is now and what will be', () => {
    const state = buildState({ br0: { ports: { p1: { type: 'internal', tag: 10 } } } });
    const [, change] = planOpenvswitch({ bridges: { br0: { ports: { p1: { tag: 20 } } } } }, state);
    assert.deepEqual(change?.from, { interface: { type: 'internal', options: {} }, tag: 10 });
    assert.deepEqual(change?.to, { tag: 20 });
  });

  it('gives the reason ovs-vswitchd reports for a port otherwise as desired', () => {
    const state = buildState({
      br0: {
        ports: { p1: { ofport: -1, error: 'could not open network device p1 (No such device)' } },
      },
    });
    const [, change] = planOpenvswitch({ bridges: { br0: { ports: { p1: {} } } } }, state);
    assert.equal(change?.action, 'none');
    assert.match(change?.reason ?? '', /No such device/);
  });
});
