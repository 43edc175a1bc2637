import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { DocumentValidator } from '../../../src/document/validator.js';
import {
  captureNetwork,
  mergeNetwork,
  networkResources,
} from '../../../src/plugins/network/capture.js';
import { networkPlugin } from '../../../src/plugins/network/index.js';
import { planNetwork } from '../../../src/plugins/network/plan.js';
import type { NetworkSection } from '../../../src/plugins/network/schema.js';
import {
  BR0,
  MACHINE,
  network,
  observedIface,
  v4,
  VETH_A,
} from '../../helpers/network-observed.js';

const validator = new DocumentValidator(buildDocumentSchema([networkPlugin]));
const valid = (section: NetworkSection): void => {
  validator.parse(JSON.stringify({ version: 1, plugins: { network: section } }));
};
/** What applying the captured section to the machine as it was would do: nothing. */
const replansNothing = (section: NetworkSection, observed = MACHINE): void => {
  assert.deepEqual(
    planNetwork(section, observed).filter((change) => change.action !== 'none'),
    [],
  );
};

const ROUTE = {
  destination: '198.51.100.0/24',
  'next-hop-address': '192.0.2.1',
  'next-hop-interface': 'br0',
};

describe('network capture (apply on probation), merge and resources', () => {
  it('captures a changed bridge as it is, cut to the keys the document gives: exact', () => {
    const desired: NetworkSection = {
      interfaces: [
        {
          name: 'br0',
          type: 'linux-bridge',
          mtu: 9000,
          ipv4: { enabled: true, address: [v4('192.0.2.20')] },
        },
      ],
    };
    const { section, restore } = captureNetwork(desired, MACHINE);
    assert.equal(restore, 'exact');
    assert.deepEqual(section, {
      interfaces: [
        {
          name: 'br0',
          type: 'linux-bridge',
          state: 'up',
          mtu: 1500,
          ipv4: { enabled: true, address: [v4('192.0.2.10')] },
        },
      ],
    });
    valid(section);
    replansNothing(section);
  });

  it('captures what is new as absent, a removed route and the DNS keys as they are', () => {
    const machine = network([observedIface(BR0), observedIface(VETH_A)], {
      routes: [ROUTE],
      dns: { server: ['192.0.2.53'], search: ['example.org'] },
    });
    const desired: NetworkSection = {
      interfaces: [{ name: 'br1', type: 'linux-bridge' }],
      routes: {
        config: [
          { ...ROUTE, state: 'absent' },
          { destination: '203.0.113.0/24', 'next-hop-interface': 'br0' },
        ],
      },
      'dns-resolver': { config: { server: ['192.0.2.99'] } },
    };
    const { section, restore } = captureNetwork(desired, machine);
    assert.equal(restore, 'exact');
    assert.deepEqual(section, {
      interfaces: [{ name: 'br1', state: 'absent' }],
      routes: {
        config: [
          ROUTE,
          { destination: '203.0.113.0/24', 'next-hop-interface': 'br0', state: 'absent' },
        ],
      },
      'dns-resolver': { config: { server: ['192.0.2.53'] } },
    });
    valid(section);
    replansNothing(section, machine);
  });

  it('says approximate where a rollback cannot put everything back', () => {
    const removed = captureNetwork({ interfaces: [{ name: 'br0', state: 'absent' }] }, MACHINE);
    assert.equal(removed.restore, 'approximate', 'keys outside the subset are lost');
    assert.equal(removed.section.interfaces?.[0]?.state, 'up');
    replansNothing(removed.section);
    const unprofiled = captureNetwork(
      { interfaces: [{ name: 'veth-b', type: 'veth', veth: { peer: 'veth-a' } }] },
      MACHINE,
    );
    assert.equal(unprofiled.restore, 'approximate', 'a device without a profile');
    assert.deepEqual(unprofiled.section, {});
    const undescribedPort = captureNetwork(
      {
        interfaces: [{ name: 'br0', type: 'linux-bridge', bridge: { port: [{ name: 'veth-c' }] } }],
      },
      MACHINE,
    );
    assert.equal(undescribedPort.restore, 'approximate', 'a port the document does not describe');
    valid(undescribedPort.section);
  });

  it('keeps the section a veth needs, so the capture is a valid document', () => {
    const { section } = captureNetwork(
      { interfaces: [{ name: 'veth-a', type: 'veth', veth: { peer: 'veth-b' }, mtu: 1400 }] },
      MACHINE,
    );
    assert.deepEqual(section.interfaces?.[0], {
      name: 'veth-a',
      type: 'veth',
      state: 'up',
      mtu: 1500,
      veth: { peer: 'veth-b' },
    });
    valid(section);
  });

  it('merges layers per interface, per route and per DNS key; names its resources', () => {
    const lower: NetworkSection = {
      interfaces: [
        { name: 'br0', type: 'linux-bridge', mtu: 1500 },
        { name: 'veth-a', type: 'veth', veth: { peer: 'veth-b' } },
      ],
      routes: { config: [ROUTE] },
      'dns-resolver': { config: { server: ['192.0.2.53'], search: ['low.example'] } },
    };
    const higher: NetworkSection = {
      interfaces: [{ name: 'br0', type: 'linux-bridge', mtu: 9000 }],
      routes: { config: [{ ...ROUTE, state: 'absent' }] },
      'dns-resolver': { config: { search: ['high.example'] } },
    };
    assert.deepEqual(mergeNetwork(lower, higher), {
      interfaces: [
        { name: 'br0', type: 'linux-bridge', mtu: 9000 },
        { name: 'veth-a', type: 'veth', veth: { peer: 'veth-b' } },
      ],
      routes: { config: [{ ...ROUTE, state: 'absent' }] },
      'dns-resolver': { config: { server: ['192.0.2.53'], search: ['high.example'] } },
    });
    assert.deepEqual(networkResources(lower), [
      'br0',
      'veth-a',
      'route 198.51.100.0/24 via 192.0.2.1 dev br0',
      'dns-resolver/config/server',
      'dns-resolver/config/search',
    ]);
  });
});
