import { startOpenvswitch, type OpenvswitchHarness } from '../../test/harness/openvswitch.js';
import { startStack } from '../../test/harness/stack.js';
import { applyDone, QUIET } from './sections.js';
import { timed } from './timing.js';

const BRIDGE = 'br-bench';

export interface OvsBridgeRow {
  ports: number;
  /** Apply over D-Bus to JobRemoved: observe, one transaction, ovs-vswitchd, verify. */
  opdbusMs: number[];
  /** add-br, then one ovs-vsctl add-port per port (each waits for ovs-vswitchd). */
  vsctlPerPortMs: number[];
  /** One ovs-vsctl: add-br and every `-- add-port` in one transaction. */
  vsctlOneCommandMs: number[];
}

/** The ports really exist with an OpenFlow port each: a figure for a failed run is no figure. */
async function checkBridge(ovs: OpenvswitchHarness, names: string[]): Promise<void> {
  const listed = (await ovs.vsctl('list-ports', BRIDGE)).trim().split('\n').sort();
  const ofports = (
    await ovs.vsctl('--bare', '--columns=ofport', 'find', 'Interface', 'type=internal')
  )
    .split(/\s+/)
    .filter((value) => value !== '');
  if (listed.join() !== [...names].sort().join() || ofports.some((p) => Number(p) <= 0))
    throw new Error(
      `bridge ${BRIDGE} is not as expected: ${listed.length} ports, ofports ${ofports.join(' ')}`,
    );
}

/**
 * A bridge with `ports` internal ports made from nothing, three ways, on the same
 * Open vSwitch (the test harness's: userspace datapath, own netns) in the same run.
 * The daemon runs in audit mode so that removing the bridge between samples is
 * not corrected behind the benchmark's back.
 */
export async function ovsBridgeBench(reps: number, ports = 50): Promise<OvsBridgeRow> {
  let harness: OpenvswitchHarness | undefined;
  const stack = await startStack({
    backend: 'none',
    daemonArgs: [...QUIET, '--no-drift-correction'],
    services: async () => {
      harness = await startOpenvswitch();
      return {
        daemonArgs: ['--plugin-option', `openvswitch.socket=${harness.socketPath}`],
        stoppables: [harness],
      };
    },
  });
  const ovs = harness as OpenvswitchHarness;
  const names = Array.from({ length: ports }, (_, i) => `bp${i}`);
  const internal = (name: string): string[] => ['--', 'set', 'Interface', name, 'type=internal'];
  const addBridge = ['add-br', BRIDGE, '--', 'set', 'Bridge', BRIDGE, 'datapath_type=netdev'];
  const document = JSON.stringify({
    version: 1,
    plugins: {
      openvswitch: {
        bridges: {
          [BRIDGE]: {
            datapath_type: 'netdev',
            ports: Object.fromEntries(names.map((n) => [n, { interface: { type: 'internal' } }])),
          },
        },
      },
    },
  });
  const ways: Record<keyof Omit<OvsBridgeRow, 'ports'>, () => Promise<unknown>> = {
    opdbusMs: () => applyDone(stack.client, document),
    vsctlPerPortMs: async () => {
      await ovs.vsctl(...addBridge);
      for (const name of names) await ovs.vsctl('add-port', BRIDGE, name, ...internal(name));
    },
    vsctlOneCommandMs: () =>
      ovs.vsctl(
        ...addBridge,
        ...names.flatMap((n) => ['--', 'add-port', BRIDGE, n, ...internal(n)]),
      ),
  };
  const row: OvsBridgeRow = { ports, opdbusMs: [], vsctlPerPortMs: [], vsctlOneCommandMs: [] };
  try {
    for (let i = 0; i < reps; i += 1) {
      for (const [key, way] of Object.entries(ways) as [
        keyof typeof ways,
        () => Promise<unknown>,
      ][]) {
        await ovs.vsctl('--if-exists', 'del-br', BRIDGE);
        row[key].push((await timed(way)).ms);
        await checkBridge(ovs, names);
      }
    }
    return row;
  } finally {
    await stack.stop();
  }
}
