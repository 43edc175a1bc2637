// `npm run sandbox [-- --backend apt]`: op-dbus for real, in a sandbox. Starts a
// private system bus, the real packagekitd (dummy backend unless --backend apt),
// a real systemd user manager, hostnamed, timedated, localed and NetworkManager
// (in their own namespaces: the host is not changed) and the built daemon;
// applies an example document with live progress, then keeps everything running
// until Ctrl-C.
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyAndWait } from '../../src/cli/client.js';
import { formatProgress, formatResult } from '../../src/cli/format.js';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/dbus/api.js';
import { ALLOW_UNTRUSTED, CLI } from './daemon.js';
import { allServices } from './all-services.js';
import {
  NM_BUS_OPTIONS,
  withNetworkManager,
  type NetworkManagerHarness,
} from './network-manager.js';
import { startStack } from './stack.js';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'dummy' } } });
const backend = values.backend === 'apt' ? 'apt' : 'dummy';
const example = `docs/examples/sandbox-${backend}.json`;
const DEMO_UNIT =
  '[Unit]\nDescription=op-dbus demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=default.target\n';

console.log(
  `Starting a private system bus, packagekitd (${backend} backend), a systemd user manager,\n` +
    'hostnamed, timedated, localed, NetworkManager (in its own network namespace) and op-dbus...',
);
// The dummy backend's packages are signed by nobody, so the sandbox lets PackageKit install untrusted ones.
let systemctl = '';
let nm: NetworkManagerHarness | undefined;
const stack = await startStack({
  backend,
  daemonArgs: backend === 'dummy' ? ALLOW_UNTRUSTED : [],
  bus: NM_BUS_OPTIONS,
  services: withNetworkManager(
    (started) => {
      nm = started;
    },
    allServices(async (systemd) => {
      await systemd.writeUnit('opdbus-demo.service', DEMO_UNIT);
      systemctl = `XDG_RUNTIME_DIR=${systemd.env.XDG_RUNTIME_DIR ?? ''} systemctl --user`;
    }),
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

Drift correction: stop the demo unit behind the daemon's back and watch it come back:

  ${systemctl} stop opdbus-demo.service
  ${systemctl} is-active opdbus-demo.service

or remove the bridge's address in NetworkManager's namespace and watch it come back:

  ${inNetwork} ip addr del 192.0.2.10/24 dev br0
  ${inNetwork} ip -4 addr show dev br0
  ${inNetwork} nmcli connection      (with the export above)

  tail -f ${logFile}     (the daemon's log, JSON lines)

Press Ctrl-C here to stop and tear everything down.
`);
await new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
console.log('\nStopping...');
await stack.stop();
console.log('Sandbox stopped.');
