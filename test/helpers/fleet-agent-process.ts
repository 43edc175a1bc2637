// A fleet agent in a process of its own (with a fake engine), so a test can kill it
// with SIGKILL. Usage: tsx fleet-agent-process.ts SETTINGS_JSON; prints "connected".
import { FleetAgent } from '../../src/fleet/agent.js';
import type { FleetSettings } from '../../src/fleet/config.js';
import { FakeFleetLayers, quietLog } from './fake-fleet-layers.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as FleetSettings;
const agent = new FleetAgent({
  settings,
  fleet: new FakeFleetLayers(),
  log: quietLog,
  onConnection: (state) => {
    if (state.connected) process.stdout.write('connected\n');
  },
});
await agent.start();
process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
