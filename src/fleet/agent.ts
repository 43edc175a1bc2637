import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, IEvent } from 'etcd3';
import type { Logger } from 'pino';
import type { FleetSettings } from './config.js';
import { Backoff, connectEtcd, etcdErrorText, readKeys, revisionOf } from './etcd-client.js';
import type { FleetLayers } from './fleet-layers.js';
import { FleetKeys, type LayerSource } from './keys.js';
import { KeyWatch } from './key-watch.js';
import { LayerWorker } from './layer-worker.js';
import { LeaseKeeper } from './lease-keeper.js';
import { ReportWriter } from './report-writer.js';
import type { LayerReport } from './report.js';
import { SlotGate } from './rollout-gate.js';

/** What the lead's `FleetConnected` condition shows. */
export interface FleetConnection {
  readonly connected: boolean;
  /** Why not connected (etcd's words, bounded), or 'Watching' when connected. */
  readonly reason: string;
  /** When this state began (ISO 8601). */
  readonly since: string;
}

export interface FleetAgentOptions {
  readonly settings: FleetSettings;
  readonly fleet: FleetLayers;
  readonly log: Logger;
  /** Tests and the bench may bring a client; otherwise one is made from the settings. */
  readonly client?: Etcd3;
  readonly onConnection?: (connection: FleetConnection) => void;
}

/**
 * A node's fleet membership: its layers from etcd into the engine, its report and
 * its alive key back. Informer-style: read every layer key at one revision, then
 * watch them from the next revision on one stream; a disconnect resumes from the
 * last seen revision, a compacted one (or any cancel) starts over with a fresh read.
 * Without etcd the node keeps the layers it holds and the engine keeps converging.
 */
export class FleetAgent {
  private client: Etcd3 | undefined;
  private readonly keys: FleetKeys;
  private readonly sources: LayerSource[];
  private readonly workers = new Map<string, LayerWorker>();
  private readonly abort = new AbortController();
  private state: FleetConnection;
  private watch: KeyWatch | undefined;
  private lease: LeaseKeeper | undefined;
  private reports: ReportWriter | undefined;
  private gate: SlotGate | undefined;
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;

  constructor(private readonly options: FleetAgentOptions) {
    this.keys = new FleetKeys(options.settings.prefix);
    this.sources = this.keys.layerSources(options.settings.nodeId, options.settings.groups);
    this.state = { connected: false, reason: 'NotStarted', since: new Date().toISOString() };
  }

  connection(): FleetConnection {
    return this.state;
  }

  /** Per layer: held and published revisions, outcome, refusal (what the report says). */
  layerReports(): Record<string, LayerReport> {
    return Object.fromEntries([...this.workers].map(([name, w]) => [name, { ...w.state }]));
  }

  /** The engine's status changed (a condition, a job): the report is rewritten. */
  statusChanged(): void {
    this.reports?.schedule();
  }

  /** Needs no etcd: the node goes on with its persisted layers until etcd answers. */
  async start(): Promise<void> {
    const { settings, fleet, log } = this.options;
    const client = this.options.client ?? (await connectEtcd(settings));
    this.client = client;
    const signal = this.abort.signal;
    const backoff = (): Backoff => new Backoff(settings.reconnectMinMs, settings.reconnectMaxMs);
    this.lease = new LeaseKeeper(client, settings.leaseTtlSeconds, settings.requestTimeoutMs, {
      granted: (leaseId) => this.leaseGranted(leaseId),
      trouble: (reason) => log.warn({ reason }, 'fleet lease keep-alive failed'),
    });
    this.gate = new SlotGate(
      client,
      this.keys,
      settings.nodeId,
      () => this.lease?.current(),
      backoff,
      log,
      signal,
    );
    this.reports = new ReportWriter(
      client,
      this.keys.nodeReport(settings.nodeId),
      settings.nodeId,
      fleet,
      () => this.layerReports(),
      () => this.state,
      log,
    );
    const held = new Map(fleet.layers().map((layer) => [layer.name, layer.revision]));
    for (const source of this.sources) {
      const worker = new LayerWorker(
        source,
        held.get(source.layer),
        fleet,
        this.gate,
        () => this.reports?.schedule(),
        log,
        signal,
      );
      this.workers.set(source.layer, worker);
    }
    this.lease.start();
    this.loop = this.run(backoff());
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('fleet agent stopping'));
    this.wakeLoop?.();
    this.watch?.stop();
    await this.loop;
    await this.lease?.stop(true);
    this.reports?.stop();
    if (!this.options.client) this.client?.close();
  }

  private setConnected(connected: boolean, reason: string): void {
    if (this.state.connected === connected && this.state.reason === reason) return;
    this.state = { connected, reason, since: new Date().toISOString() };
    this.options.log[connected ? 'info' : 'warn'](
      { reason },
      connected ? 'fleet connected' : 'fleet not connected',
    );
    this.options.onConnection?.(this.state);
    if (connected) {
      this.lease?.poke();
      this.reports?.schedule();
    }
  }

  private async leaseGranted(leaseId: string): Promise<void> {
    const { nodeId } = this.options.settings;
    const alive = JSON.stringify({
      node: nodeId,
      since: new Date().toISOString(),
      pid: process.pid,
    });
    await this.client?.kv.put({
      key: Buffer.from(this.keys.nodeAlive(nodeId)),
      value: Buffer.from(alive),
      lease: leaseId,
    });
    await this.gate?.leaseRenewed(leaseId);
  }

  /** List, watch until etcd cancels the watch, list again; back off while etcd is away. */
  private async run(backoff: Backoff): Promise<void> {
    const signal = this.abort.signal;
    const client = this.client as Etcd3;
    while (!signal.aborted) {
      try {
        const snapshot = await readKeys(
          client,
          this.sources.map((s) => s.key),
        );
        if (signal.aborted) return;
        for (const source of this.sources) {
          const found = snapshot.values.get(source.key);
          this.workers
            .get(source.layer)
            ?.published(found?.modRevision ?? snapshot.revision, found?.value);
        }
        const reason = await this.watchFrom(snapshot.revision + 1, backoff);
        if (!signal.aborted)
          this.options.log.info({ reason }, 'fleet watch cancelled; reading every layer again');
      } catch (err) {
        if (signal.aborted) return;
        this.setConnected(false, etcdErrorText(err));
        await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Resolves with the reason when etcd cancels the watch (compaction, permissions) or on stop. */
  private watchFrom(revision: number, backoff: Backoff): Promise<string> {
    return new Promise<string>((resolve) => {
      this.wakeLoop = () => resolve('stopping');
      this.watch = new KeyWatch(
        this.client as Etcd3,
        this.sources.map((s) => ({ key: s.key })),
        revision,
        {
          events: (index, events) => this.received(index, events),
          connected: () => {
            backoff.reset();
            this.setConnected(true, 'Watching');
          },
          disconnected: (reason) => this.setConnected(false, reason),
          cancelled: (reason) => resolve(reason),
        },
        backoff,
      );
      this.watch.start();
    });
  }

  private received(index: number, events: readonly IEvent[]): void {
    const source = this.sources[index];
    const worker = source && this.workers.get(source.layer);
    if (!worker) return;
    for (const event of events) {
      if (event.kv.key.toString('utf8') !== source.key) continue; // not ours: never trusted
      const revision = revisionOf(event.kv.mod_revision);
      worker.published(revision, event.type === 'Delete' ? undefined : event.kv.value);
    }
  }
}
