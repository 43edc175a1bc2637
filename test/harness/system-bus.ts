import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { waitFor } from './processes.js';
import { existsSync } from 'node:fs';

export const PROJECT_POLICY = fileURLToPath(
  new URL('../../dbus-interfaces/org.opdbus.StateManager.conf', import.meta.url),
);

/** A private dbus-daemon of type system, with the real system policies and the project's own. */
export interface SystemBus {
  dir: string;
  address: string;
  pid: number;
  /** The environment a client or service uses to reach this bus. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Options of a private system bus. */
export interface SystemBusOptions {
  /**
   * Bus names the bus must never start by activation. Activated services run in
   * the host's namespaces: NetworkManager's dispatcher, for one, would run the
   * host's ifupdown scripts for interfaces that exist only in a test namespace.
   */
  forbidActivation?: readonly string[];
}

function forbidden(names: readonly string[]): string {
  if (names.length === 0) return '';
  const denies = names.map((name) => `    <deny send_destination="${name}"/>`).join('\n');
  return `  <policy context="mandatory">\n${denies}\n  </policy>\n`;
}

function busConfig(socket: string, options: SystemBusOptions): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <standard_system_servicedirs/>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <includedir>/etc/dbus-1/system.d</includedir>
  <include ignore_missing="no">${PROJECT_POLICY}</include>
${forbidden(options.forbidActivation ?? [])}  <limit name="max_match_rules_per_connection">512</limit>
</busconfig>
`;
}

/** Starts a private system bus in a fresh folder that polkitd (its own user) can reach. */
export async function startSystemBus(options: SystemBusOptions = {}): Promise<SystemBus> {
  const dir = await mkdtemp(join(tmpdir(), 'opdbus-bus-'));
  await chmod(dir, 0o755);
  const socket = join(dir, 'system_bus_socket');
  const config = join(dir, 'system.conf');
  await writeFile(config, busConfig(socket, options));
  // An empty daemon configuration: tests never read the host's /etc/op-dbus.
  await writeFile(join(dir, 'no-config.json'), '{}\n');
  const out = execFileSync('dbus-daemon', [`--config-file=${config}`, '--fork', '--print-pid'], {
    encoding: 'utf8',
  });
  const pid = Number(out.trim().split('\n')[0]);
  const address = `unix:path=${socket}`;
  await waitFor('the system bus socket', () => existsSync(socket));
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address };
  return {
    dir,
    address,
    pid,
    env,
    async stop() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      // polkitd was activated by this bus; it exits on its own when the bus goes.
      await rm(dir, { recursive: true, force: true });
    },
  };
}
