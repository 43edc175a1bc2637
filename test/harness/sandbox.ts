// `npm run sandbox [-- [--backend apt [--showcase]] [--cockpit]]`: op-dbus for real,
// in a sandbox. Starts a private system bus, the real packagekitd (dummy backend
// unless --backend apt), a real systemd user manager, hostnamed, timedated, localed,
// Open vSwitch and NetworkManager (in their own namespaces: the host is not changed) and the built
// daemon; applies an example document with live progress, then keeps everything
// running until Ctrl-C. --showcase applies the Proxmox-style showcase instead (a
// repository from a local signed archive, its package, unit and a hostname;
// test/harness/showcase.ts) and undoes it on Ctrl-C.
// --cockpit also serves the Cockpit page (cockpit-ws on a loopback port) and prints its URL.
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyAndWait } from '../../src/cli/client.js';
import { formatProgress, formatResult } from '../../src/cli/format.js';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/dbus/api.js';
import { ALLOW_UNTRUSTED, CLI } from './daemon.js';
import { allServices } from './all-services.js';
import { prepareShowcase } from './showcase.js';
import { startCockpit, type Cockpit } from './cockpit.js';
import { startStack } from './stack.js';
import {
  NM_BUS_OPTIONS,
  withNetworkManager,
  type NetworkManagerHarness,
} from './network-manager.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'dummy' },
    showcase: { type: 'boolean', default: false },
    cockpit: { type: 'boolean', default: false },
  },
});
const backend = values.backend === 'apt' ? 'apt' : 'dummy';
if (values.showcase && backend !== 'apt') {
  console.error('--showcase installs real packages: it needs --backend apt');
  process.exit(2);
}
const showcase = values.showcase ? await prepareShowcase() : undefined;
const example = showcase?.documentPath ?? `docs/examples/sandbox-${backend}.json`;
/** The unit the example document keeps running: the drift demonstration stops it. */
const demoUnit = showcase?.archive.unitName ?? 'opdbus-demo.service';
const DEMO_UNIT =
  '[Unit]\nDescription=op-dbus demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=default.target\n';

console.log(
  `Starting a private system bus, packagekitd (${backend} backend), a systemd user manager,\n` +
    'hostnamed, timedated, localed, Open vSwitch, NetworkManager and op-dbus...',
);
// The dummy backend's packages are signed by nobody, so the sandbox lets PackageKit install untrusted ones.
let systemctl = '';
let vsctl = '';
let nm: NetworkManagerHarness | undefined;
const stack = await startStack({
  backend,
  packagekitEnv: showcase?.apt.env,
  daemonArgs: [
    ...(backend === 'dummy' ? ALLOW_UNTRUSTED : []),
    ...(showcase?.apt.daemonArgs ?? []),
  ],
  bus: NM_BUS_OPTIONS,
  services: withNetworkManager(
    (started) => {
      nm = started;
    },
    allServices(
      async (systemd) => {
        await systemd.writeUnit('opdbus-demo.service', DEMO_UNIT);
        systemctl = `XDG_RUNTIME_DIR=${systemd.env.XDG_RUNTIME_DIR ?? ''} systemctl --user`;
      },
      (ovs) => {
        vsctl = `ovs-vsctl --db=unix:${ovs.socketPath}`;
      },
    ),
  ),
});
const inNetwork = `nsenter -t ${nm?.namespacePid ?? '?'} -n -m`;
const env = `DBUS_SYSTEM_BUS_ADDRESS=${stack.bus.address}`;
const logFile = join(stack.bus.dir, 'op-dbus.log');
const log = createWriteStream(logFile);
log.write(stack.daemon.output.join(''));
stack.daemon.child.stdout?.pipe(log);
stack.daemon.child.stderr?.pipe(log);

console.log(`\nApplying ${example}:`);
const document = await readFile(example, 'utf8');
const outcome = await applyAndWait(stack.client, document, (body) =>
  console.log(`  ${formatProgress(body)}`),
);
console.log(`\n${formatResult(outcome.state, outcome.result)}`);
if (backend === 'dummy') {
  console.log(
    "\nNote: PackageKit's dummy backend only pretends to install: a package it does not already\n" +
      'list as installed stays uninstalled, and op-dbus reports that as failed. Use --backend apt\n' +
      'for real packages (it installs and removes them on this machine).',
  );
}

// The showcase's document has no bridges: its drift demonstration is the unit alone.
const driftHeading = showcase
  ? "Drift correction: stop the demo unit behind the daemon's back and watch it come back:"
  : "Drift correction: stop the demo unit, delete the Open vSwitch bridge's port or the\nLinux bridge's address behind the daemon's back, and watch them come back:";
const bridgeDrift = showcase
  ? ''
  : `\n  ${vsctl} del-port vmbr0 vmbr0-mgmt\n  ${vsctl} list-ports vmbr0\n  ${inNetwork} ip addr del 192.0.2.10/24 dev br0     (NetworkManager's namespace)\n  ${inNetwork} ip -4 addr show dev br0`;
console.log(`
op-dbus is running on a private system bus. In another shell, try:

  export ${env}
  busctl --system monitor ${BUS_NAME}
  busctl --system call ${BUS_NAME} ${OBJECT_PATH} ${MANAGER_INTERFACE} Apply s "$(cat ${example})"
  busctl --system call ${BUS_NAME} ${OBJECT_PATH} ${MANAGER_INTERFACE} Query as 0
  busctl --system introspect ${BUS_NAME} ${OBJECT_PATH}
  node ${CLI} plan ${example}
  node ${CLI} apply ${example}
  node ${CLI} query -p systemd
  node ${CLI} status
  node ${CLI} watch                     (follows Progress and DriftDetected)
  node ${CLI} history --verify

${driftHeading}

  ${systemctl} stop ${demoUnit}
  ${systemctl} is-active ${demoUnit}${bridgeDrift}

  tail -f ${logFile}     (the daemon's log, JSON lines)

Press Ctrl-C here to stop and tear everything down.
`);
if (showcase) console.log(`${showcase.howToLook(systemctl)}\n`);
let cockpit: Cockpit | undefined;
if (values.cockpit) {
  try {
    cockpit = await startCockpit(stack.bus);
    console.log(
      `The Cockpit page (cockpit-ws on this machine's loopback, a root session, no login):\n\n` +
        `  ${cockpit.pageUrl}\n\n` +
        `From another machine: ssh -L ${cockpit.port}:127.0.0.1:${cockpit.port} THIS-HOST, then open the same URL.\n`,
    );
  } catch (err) {
    // The rest of the sandbox stays useful; Ctrl-C still tears it down.
    console.error(
      `Cannot serve the Cockpit page: ${err instanceof Error ? err.message : String(err)}`,
    );
    console.error('It needs the Debian packages cockpit-ws and cockpit-bridge.\n');
  }
}
await new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
console.log('\nStopping...');
if (showcase) {
  console.log(`Applying ${showcase.cleanupPath}:`);
  const undone = await applyAndWait(
    stack.client,
    await readFile(showcase.cleanupPath, 'utf8'),
    () => undefined,
  );
  console.log(formatResult(undone.state, undone.result));
}
await cockpit?.stop();
await stack.stop();
await showcase?.teardown();
console.log('Sandbox stopped.');
