import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaChecker } from '../../../src/document/validator.js';
import { planOpenvswitch, type OvsChange } from '../../../src/plugins/openvswitch/plan.js';
import { sectionFromState } from '../../../src/plugins/openvswitch/query.js';
import { OpenvswitchSection } from '../../../src/plugins/openvswitch/schema.js';
import { verifyChange } from '../../../src/plugins/openvswitch/verify.js';
import { buildState } from '../../helpers/openvswitch.js';

const checker = new SchemaChecker(OpenvswitchSection);

const ISSUE_EXAMPLE = {
  bridges: {
    vmbr0: {
      ensure: 'present',
      datapath_type: 'system',
      fail_mode: 'standalone',
      stp_enable: false,
      external_ids: { owner: 'op-dbus' },
      ports: {
        'vmbr0-mgmt': { interface: { type: 'internal' }, tag: 10 },
        eth1: { interface: { type: 'system' } },
        'patch-a': { interface: { type: 'patch', options: { peer: 'patch-b' } } },
      },
    },
  },
};

describe('openvswitch section schema', () => {
  it('accepts the section as issue 12 shows it', () => {
    assert.deepEqual(checker.problems(ISSUE_EXAMPLE), []);
  });

  const refused: [string, unknown, RegExp][] = [
    ['an unknown bridge field', { bridges: { br0: { colour: 'red' } } }, /unknown field 'colour'/],
    [
      'an unknown port field',
      { bridges: { br0: { ports: { p: { vlan: 1 } } } } },
      /unknown field 'vlan'/,
    ],
    [
      'an unknown interface field',
      { bridges: { br0: { ports: { p: { interface: { mtu: 1 } } } } } },
      /unknown field 'mtu'/,
    ],
    ['a bridge name over 15 bytes', { bridges: { 'a-very-long-name': {} } }, /not a valid name/],
    ['a bridge name with a slash', { bridges: { 'br/0': {} } }, /not a valid name/],
    [
      'a port name starting with a dot',
      { bridges: { br0: { ports: { '.p': {} } } } },
      /not a valid name/,
    ],
    ['a tag over 4095', { bridges: { br0: { ports: { p: { tag: 4096 } } } } }, /must be <= 4095/],
    [
      'a datapath type OVS has not',
      { bridges: { br0: { datapath_type: 'dpdk' } } },
      /must be one of/,
    ],
    ['ensure misspelt', { bridges: { br0: { ensure: 'gone' } } }, /must be one of/],
    [
      "op-dbus's own marker in external_ids",
      { bridges: { br0: { external_ids: { 'op-dbus-managed': 'x' } } } },
      /op-dbus-managed/,
    ],
    ['an unknown top-level field', { bridges: {}, ports: {} }, /unknown field 'ports'/],
  ];
  for (const [title, section, expected] of refused) {
    it(`refuses ${title}`, () => {
      const problems = checker.problems(section);
      assert.ok(problems.length > 0, 'expected a problem');
      assert.match(problems.join('\n'), expected);
    });
  }
});

function planOne(state: ReturnType<typeof buildState>, desired: OpenvswitchSection): OvsChange[] {
  return planOpenvswitch(desired, state);
}

describe('openvswitch verification after apply (pure)', () => {
  it('fails a system bridge that got no ofport, terminal, saying why', () => {
    const state = buildState({
      br0: { datapathType: '', ports: { br0: { type: 'internal', ofport: null } } },
    });
    const [change] = planOne(buildState({}), { bridges: { br0: { datapath_type: 'system' } } });
    const outcome = verifyChange(change as OvsChange, state);
    assert.equal(outcome.outcome, 'failed');
    assert.equal(outcome.failure, 'terminal');
    assert.match(outcome.error ?? '', /did not create bridge br0.*kernel module/);
  });

  it('fails a port whose interface has an error, with the error', () => {
    const state = buildState({
      br0: {
        ports: { p1: { ofport: -1, error: 'could not open network device p1 (No such device)' } },
      },
    });
    const [, change] = planOne(buildState({ br0: {} }), {
      bridges: { br0: { ports: { p1: {} } } },
    });
    const outcome = verifyChange(change as OvsChange, state);
    assert.equal(outcome.outcome, 'failed');
    assert.equal(outcome.failure, 'retryable');
    assert.match(
      outcome.error ?? '',
      /port p1: could not open network device p1 \(No such device\)/,
    );
  });

  it('fails a port with ofport -1 and no error', () => {
    const state = buildState({ br0: { ports: { p1: { ofport: -1 } } } });
    const [, change] = planOne(buildState({ br0: {} }), {
      bridges: { br0: { ports: { p1: {} } } },
    });
    assert.match(
      verifyChange(change as OvsChange, state).error ?? '',
      /no OpenFlow port \(ofport -1\)/,
    );
  });

  it('passes a port with an ofport, and a removal that is gone', () => {
    const before = buildState({ br0: { ports: { old: {} } } });
    const [, create, remove] = planOne(before, {
      bridges: { br0: { ports: { p1: {}, old: { ensure: 'absent' } } } },
    });
    const after = buildState({ br0: { ports: { p1: { ofport: 3 } } } });
    assert.equal(verifyChange(create as OvsChange, after).outcome, 'changed');
    assert.equal(verifyChange(remove as OvsChange, after).outcome, 'changed');
    assert.equal(verifyChange(remove as OvsChange, before).outcome, 'failed');
  });
});

describe('openvswitch query (pure)', () => {
  const state = buildState({
    br0: {
      datapathType: 'netdev',
      failMode: 'secure',
      externalIds: { owner: 'x', 'op-dbus-managed': 'true' },
      ports: {
        uplink: { type: '' },
        mgmt: { type: 'internal', tag: 10 },
        pa: { type: 'patch', options: { peer: 'pb' } },
        bond0: { extraInterfaces: ['bond0b'] },
      },
    },
    br1: { datapathType: '', ports: { pb: { type: 'patch', options: { peer: 'pa' } } } },
  });
  const section = sectionFromState(state);

  it('describes every bridge in the document shape, which the schema accepts', () => {
    assert.deepEqual(checker.problems(section), []);
    assert.deepEqual(section.bridges.br0, {
      ensure: 'present',
      datapath_type: 'netdev',
      fail_mode: 'secure',
      stp_enable: false,
      external_ids: { owner: 'x' },
      ports: {
        mgmt: { interface: { type: 'internal', options: {} }, tag: 10 },
        pa: { interface: { type: 'patch', options: { peer: 'pb' } } },
        uplink: { interface: { type: 'system', options: {} } },
      },
    });
    assert.equal(section.bridges.br1?.datapath_type, 'system');
  });

  it('plans no change when applied to the state it came from', () => {
    const plan = planOpenvswitch(section, state);
    assert.deepEqual(
      plan.filter((change) => change.action !== 'none').map((change) => change.resource),
      [],
    );
    assert.ok(plan.length >= 6);
  });
});
