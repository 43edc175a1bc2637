import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import type { FleetConnection } from './agent.js';
import { etcdErrorText } from './etcd-client.js';
import type { FleetLayers } from './fleet-layers.js';
import { boundedJson, conditionsForReport, type LayerReport, type NodeReport } from './report.js';

/** Builds the node's report from the engine's status and the layers' states. */
export function buildReport(
  node: string,
  status: ReturnType<FleetLayers['status']>,
  layers: Record<string, LayerReport>,
  connection: FleetConnection,
  now: Date = new Date(),
): NodeReport {
  const conditions = conditionsForReport(status.conditions);
  // Written only while connected, but says since when and why it was not before.
  conditions.FleetConnected = {
    status: connection.connected ? 'True' : 'False',
    reason: connection.connected ? 'Watching' : 'Disconnected',
    message: connection.connected ? `since ${connection.since}` : connection.reason,
  };
  return {
    node,
    time: now.toISOString(),
    generation: Number.isSafeInteger(status.generation) ? Math.max(0, status.generation) : 0,
    layers,
    conditions,
    lastResult: boundedJson(status.lastResult),
    ledgerHead: typeof status.ledgerHead === 'string' ? status.ledgerHead.slice(0, 128) : '',
  };
}

/**
 * Writes `<prefix>/nodes/<id>/report`: coalesced (one write in flight, then one more
 * with the newest state if anything changed meanwhile). A write etcd refused stays
 * due and is written at the next change or reconnect.
 */
export class ReportWriter {
  private writing = false;
  private dirty = false;
  private stopped = false;
  /** Reports written (for tests and the bench). */
  written = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly key: string,
    private readonly node: string,
    private readonly fleet: FleetLayers,
    private readonly layers: () => Record<string, LayerReport>,
    private readonly connection: () => FleetConnection,
    private readonly log: Logger,
  ) {}

  schedule(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (!this.writing) void this.drain();
  }

  stop(): void {
    this.stopped = true;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        const report = buildReport(
          this.node,
          this.fleet.status(),
          this.layers(),
          this.connection(),
        );
        try {
          await this.client.kv.put({
            key: Buffer.from(this.key),
            value: Buffer.from(JSON.stringify(report)),
          });
          this.written++;
        } catch (err) {
          this.log.warn({ err: etcdErrorText(err) }, 'fleet report not written');
          this.dirty = true;
          return; // due again at the next change or reconnect
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
