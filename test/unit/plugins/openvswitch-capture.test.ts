import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureBridges } from '../../../src/plugins/openvswitch/capture.js';
import { planOpenvswitch } from '../../../src/plugins/openvswitch/plan.js';
import { buildState } from '../../helpers/openvswitch.js';

describe('openvswitch capture (what a rollback applies)', () => {
  it('a bridge that did not exist comes back absent; one that did, with exactly its ports', () => {
    const before = buildState({
      br0: { datapathType: 'netdev', ports: { mgmt: { type: 'internal', tag: 10 } } },
    });
    const desired = {
      bridges: {
        br0: { ports: { extra: { interface: { type: 'internal' } } } },
        br1: { datapath_type: 'netdev' as const },
      },
    };
    const { section, restore } = captureBridges(desired, before);
    assert.equal(restore, 'exact');
    assert.deepEqual(section.bridges.br1, { ensure: 'absent' });
    assert.equal(section.bridges.br0?.exclusive_ports, true);
    assert.deepEqual(Object.keys(section.bridges.br0?.ports ?? {}), ['mgmt']);
    // Applied to the machine as it was, the capture plans nothing: it describes it.
    const rows = planOpenvswitch(section, before).filter((row) => row.action !== 'none');
    assert.deepEqual(rows, []);
  });
});
