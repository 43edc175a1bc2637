/**
 * What the fleet knows of the engine: the engine keeps the layers (validated,
 * persisted, merged with precedence node > groups > local) and runs the jobs; the
 * fleet only feeds it layers from etcd and reports what it says.
 */
export interface FleetLayers {
  /**
   * Validates (InvalidDocument with paths on failure) and persists a layer, merges,
   * and queues a job; resolves with the job once queued. `document` undefined
   * removes the layer (its key was deleted).
   */
  setLayer(layer: { name: string; document: unknown; revision: number }): Promise<{
    id: number;
    finished: Promise<{ state: 'done' | 'failed' | 'cancelled'; result: unknown }>;
  }>;
  /** The layers the node holds now (persisted), with their revisions: what a node that boots with etcd down converges to. */
  layers(): { name: string; revision: number }[];
  /** For the report: generation, conditions (JSON), last job summary, ledger head hash. */
  status(): { generation: number; conditions: unknown; lastResult: unknown; ledgerHead: string };
}

export type JobEnd = Awaited<Awaited<ReturnType<FleetLayers['setLayer']>>['finished']>;
