import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SystemBus } from '../harness/system-bus.js';

const FLOOD_CLIENT = fileURLToPath(new URL('./flood-client.mjs', import.meta.url));
const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

export interface FloodResult {
  answered: number;
  errors: Record<string, number>;
}

/** Starts a flood of reads from `nobody` (see flood-client.mjs); resolves with its tally. */
export function floodAsNobody(
  bus: SystemBus,
  method: 'Plan' | 'Query' | 'Verify',
  count: number,
  concurrency: number,
  template = '',
): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'setpriv',
      [...AS_NOBODY, process.execPath, FLOOD_CLIENT, method, String(count), String(concurrency)],
      { env: { PATH: process.env.PATH, DBUS_SYSTEM_BUS_ADDRESS: bus.address } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(template);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`flood client exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as FloodResult);
    });
  });
}

/** Sends a signal from `nobody`'s own connection with dbus-send (unicast when `destination`). */
export function sendSignalAsNobody(
  bus: SystemBus,
  destination: string,
  path: string,
  member: string,
  args: string[],
): void {
  const result = spawnSync(
    'setpriv',
    [
      ...AS_NOBODY,
      'dbus-send',
      '--system',
      '--type=signal',
      `--dest=${destination}`,
      path,
      member,
      ...args,
    ],
    { env: { PATH: process.env.PATH, DBUS_SYSTEM_BUS_ADDRESS: bus.address }, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`dbus-send failed: ${result.stderr}`);
}

/**
 * Counts method calls matching `rule` on the bus with dbus-monitor (root may
 * monitor the private bus): what the daemon really asked of a service.
 */
export class CallCounter {
  private lines = 0;
  private readonly child: ChildProcess;

  constructor(bus: SystemBus, rule: string) {
    this.child = spawn('dbus-monitor', ['--address', bus.address, '--profile', rule]);
    this.child.stdout?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.startsWith('mc\t')) this.lines += 1;
    });
  }

  get count(): number {
    return this.lines;
  }

  stop(): void {
    this.child.kill();
  }
}
