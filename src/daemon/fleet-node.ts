import type { Logger } from 'pino';
import type { StateManager } from '../engine/state-manager.js';
import type { Job } from '../engine/jobs/job.js';
import { FleetAgent, type FleetConnection } from '../fleet/agent.js';
import {
  resolveFleetSettings,
  type FleetSettings,
  type FleetSettingsFile,
} from '../fleet/config.js';
import type { FleetLayers, JobEnd } from '../fleet/fleet-layers.js';
import type { Ledger } from '../ledger/ledger.js';

/** The engine as the fleet sees it: layers in, status out. */
function fleetLayers(engine: StateManager, ledger: Ledger, uid: number): FleetLayers {
  let last: unknown = null;
  engine.events.on('job-removed', (job) => {
    last = job.result
      ? { job: job.id, kind: job.kind, state: job.state, summary: job.result.summary }
      : null;
  });
  const ended = (job: Job): Promise<JobEnd> =>
    new Promise((resolve) => {
      const check = (done: Job): void => {
        if (done !== job) return;
        engine.events.off('job-removed', check);
        resolve({ state: job.state as JobEnd['state'], result: job.result });
      };
      engine.events.on('job-removed', check);
    });
  return {
    async setLayer({ name, document, revision }) {
      const job = await engine.setLayer(name, document, revision, {
        sender: `fleet ${name}@${revision}`,
        uid,
      });
      return { id: job.id, finished: ended(job) };
    },
    layers: () =>
      engine.desired
        .layers()
        .filter((layer) => layer.name !== 'local')
        .map(({ name, revision }) => ({ name, revision })),
    status: () => ({
      generation: engine.desiredGeneration,
      conditions: engine.health.conditions.toJSON(),
      lastResult: last,
      ledgerHead: ledger.head,
    }),
  };
}

/**
 * This daemon as a node of a fleet: its layers come from etcd, its report and
 * liveness go back, and the FleetConnected condition says whether it hears etcd
 * (it keeps converging on its last layers when it does not).
 */
export class FleetNode {
  private constructor(
    private readonly agent: FleetAgent,
    private readonly stopStatus: () => void,
  ) {}

  /** The settings with defaults and the node id; read before the engine is made (its layer order). */
  static settings(file: FleetSettingsFile): Promise<FleetSettings> {
    return resolveFleetSettings(file);
  }

  static async start(
    settings: FleetSettings,
    engine: StateManager,
    ledger: Ledger,
    log: Logger,
  ): Promise<FleetNode> {
    const connection = (state: FleetConnection): void =>
      engine.health.setFleetConnected(
        state.connected,
        state.connected ? 'Watching' : 'Disconnected',
        state.connected
          ? `watching etcd for node ${settings.nodeId} (groups: ${settings.groups.join(', ') || 'none'})`
          : `etcd is not reachable: ${state.reason}; converging on the last layers`,
      );
    const agent = new FleetAgent({
      settings,
      fleet: fleetLayers(engine, ledger, process.getuid?.() ?? 0),
      log: log.child({ room: 'fleet' }),
      onConnection: connection,
    });
    connection(agent.connection());
    const onChanged = (): void => agent.statusChanged();
    engine.events.on('changed', onChanged);
    await agent.start();
    log.info({ node: settings.nodeId, groups: settings.groups }, 'fleet node started');
    return new FleetNode(agent, () => engine.events.off('changed', onChanged));
  }

  async stop(): Promise<void> {
    this.stopStatus();
    await this.agent.stop();
  }
}
