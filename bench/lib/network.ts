import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import { NM_BUS_OPTIONS, withNetworkManager } from '../../test/harness/network-manager.js';
import { startStack } from '../../test/harness/stack.js';
import { applyDone, QUIET } from './sections.js';
import { samples } from './timing.js';

const run = promisify(execFile);

/** Medians' raw samples: op-dbus Apply vs the same work done with nmcli, in one run. */
export interface NetworkBench {
  noop: { opdbusMs: number[]; nmcliMs: number[] };
  oneChange: { opdbusMs: number[]; nmcliMs: number[] };
}

function bridge(ip: string): string {
  const section: NetworkSection = {
    interfaces: [
      {
        name: 'br0',
        type: 'linux-bridge',
        state: 'up',
        ipv4: { enabled: true, dhcp: false, address: [{ ip, 'prefix-length': 24 }] },
        ipv6: { enabled: false },
        bridge: { options: { stp: { enabled: false } }, port: [{ name: 'veth-a' }] },
      },
    ],
  };
  return JSON.stringify({ version: 1, plugins: { network: section } });
}

/**
 * A bridge with a veth port and one address, on NetworkManager 1.42 in its
 * namespace, on the daemon's bus. op-dbus: Apply through D-Bus until the job
 * is done (observe, plan, checkpoint, Update2 + Reapply, verify, destroy the
 * checkpoint, the engine's own verification). nmcli: what a script does for
 * the same state, `nmcli connection modify br0 ipv4.addresses IP/24` then
 * `nmcli device reapply br0` (nmcli cannot tell that nothing changes, nor take a
 * checkpoint), run from the host against the same bus.
 */
export async function networkApplies(reps: number, log: (line: string) => void) {
  let nmcli: (args: string[]) => Promise<void> = () => Promise.resolve();
  let addresses: () => Promise<string> = () => Promise.resolve('');
  const stack = await startStack({
    backend: 'none',
    daemonArgs: QUIET,
    bus: NM_BUS_OPTIONS,
    services: withNetworkManager(async (nm) => {
      await nm.addVethPair('veth-a', 'veth-b');
      nmcli = async (args) => {
        await run('nmcli', args, { env: nm.bus.env });
      };
      addresses = () => nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0');
    }),
  });
  try {
    const script = async (ip: string): Promise<void> => {
      await nmcli(['connection', 'modify', 'br0', 'ipv4.addresses', `${ip}/24`]);
      await nmcli(['device', 'reapply', 'br0']);
    };
    let current = '192.0.2.10';
    const next = (): string => (current = current === '192.0.2.10' ? '192.0.2.20' : '192.0.2.10');
    await applyDone(stack.client, bridge(current));
    log(`network: ${reps} no-op and one-change applies, op-dbus and nmcli`);
    const result: NetworkBench = {
      noop: {
        opdbusMs: await samples(reps, () => applyDone(stack.client, bridge(current))),
        nmcliMs: [],
      },
      oneChange: {
        opdbusMs: await samples(reps, () => applyDone(stack.client, bridge(next()))),
        nmcliMs: [],
      },
    };
    // Nothing for the daemon to keep in place while nmcli works: it must not correct nmcli.
    await applyDone(stack.client, JSON.stringify({ version: 1, plugins: {} }));
    result.noop.nmcliMs = await samples(reps, () => script(current));
    result.oneChange.nmcliMs = await samples(reps, () => script(next()));
    if (!(await addresses()).includes(`${current}/24`)) {
      throw new Error(`nmcli did not leave ${current} on br0: its figures are not comparable`);
    }
    return result;
  } finally {
    await stack.stop();
  }
}
