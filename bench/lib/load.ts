import { StateManagerClient } from '../../src/cli/client.js';
import { connectBus } from '../../src/dbus/bus.js';
import { quantile, round } from './timing.js';

export interface LoadResult {
  clients: number;
  calls: number;
  p50Ms: number;
  p99Ms: number;
  callsPerSecond: number;
}

/**
 * `clients` separate bus connections, each calling `call` back to back for
 * `durationMs`: latency per call and total calls per second.
 */
export async function concurrentLoad(
  address: string,
  clients: number,
  durationMs: number,
  call: (client: StateManagerClient) => Promise<unknown>,
): Promise<LoadResult> {
  const connections = await Promise.all(Array.from({ length: clients }, () => connectBus(address)));
  const latencies: number[] = [];
  const start = Date.now();
  const deadline = start + durationMs;
  await Promise.all(
    connections.map(async (bus) => {
      const client = new StateManagerClient(bus);
      while (Date.now() < deadline) {
        const t0 = process.hrtime.bigint();
        await call(client);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const elapsed = (Date.now() - start) / 1000;
  for (const bus of connections) bus.disconnect();
  return {
    clients,
    calls: latencies.length,
    p50Ms: round(quantile(latencies, 0.5), 2),
    p99Ms: round(quantile(latencies, 0.99), 2),
    callsPerSecond: round(latencies.length / elapsed, 0),
  };
}
