import { emptyDocument, type DesiredDocument } from '../../document/document.js';
import { ErrorName, OpdbusError } from '../../errors.js';
import type { EnginePlugin } from '../plugin.js';
import { LAYER_NAME_PATTERN, layerOf, layerRank, mergeLayers, type Layer } from './layers.js';

/** Where accepted documents go before they are acknowledged. */
export interface DesiredStateStore {
  /** The local layer (desired.json). */
  save(document: DesiredDocument): Promise<void>;
  /** Every fleet layer, with its revision (layers.json). */
  saveLayers?(layers: readonly Layer[]): Promise<void>;
}

/**
 * The desired state: its layers, their union (the effective document every job
 * and check works on) and its generation. Every change is persisted before it
 * is taken: an accepted layer is never one a restart would lose.
 */
export class DesiredState {
  private local: DesiredDocument = emptyDocument();
  private readonly fleet = new Map<string, Layer>();
  private effectiveDocument: DesiredDocument = emptyDocument();
  private generationValue = 0;

  constructor(
    private readonly plugins: readonly EnginePlugin[],
    private readonly store: DesiredStateStore,
    /** The fleet groups this node belongs to, lowest precedence first. */
    private readonly groups: readonly string[] = [],
  ) {}

  get effective(): DesiredDocument {
    return this.effectiveDocument;
  }

  get localDocument(): DesiredDocument {
    return this.local;
  }

  get generation(): number {
    return this.generationValue;
  }

  /** Every layer, lowest precedence first ('local' always). */
  layers(): Layer[] {
    const fleet = [...this.fleet.values()].sort(
      (a, b) => layerRank(a.name, this.groups) - layerRank(b.name, this.groups),
    );
    return [{ name: 'local', document: this.local, revision: 0 }, ...fleet];
  }

  /** The effective document if the local layer were `document` (what Plan shows). */
  withLocal(document: DesiredDocument): DesiredDocument {
    const [, ...fleet] = this.layers();
    return mergeLayers(this.plugins, [{ name: 'local', document, revision: 0 }, ...fleet]);
  }

  /** The layer a resource of the effective state (or of `withLocal(document)`) comes from. */
  sourceOf(plugin: string, resource: string, local?: DesiredDocument): string | undefined {
    const layers = this.layers();
    if (local) layers[0] = { name: 'local', document: local, revision: 0 };
    return layerOf(this.plugins, layers, plugin, resource);
  }

  async setLocal(document: DesiredDocument): Promise<void> {
    await this.store.save(document);
    this.local = document;
    this.recompute();
  }

  /** A fleet layer; `undefined` removes it (its key was deleted). */
  async setLayer(
    name: string,
    document: DesiredDocument | undefined,
    revision: number,
  ): Promise<void> {
    if (!LAYER_NAME_PATTERN.test(name) || name === 'local' || layerRank(name, this.groups) < 0) {
      throw new OpdbusError(ErrorName.InvalidArgs, `'${name}' is not a fleet layer of this node`);
    }
    const next = new Map(this.fleet);
    if (document) next.set(name, { name, document, revision });
    else next.delete(name);
    await this.store.saveLayers?.([...next.values()]);
    this.fleet.clear();
    for (const [key, layer] of next) this.fleet.set(key, layer);
    this.recompute();
  }

  /** At start-up: what was persisted, already on disk. */
  restore(local: DesiredDocument | undefined, fleet: readonly Layer[]): void {
    if (local) this.local = local;
    for (const layer of fleet)
      if (layerRank(layer.name, this.groups) > 0) this.fleet.set(layer.name, layer);
    this.recompute();
  }

  private recompute(): void {
    this.effectiveDocument = mergeLayers(this.plugins, this.layers());
    this.generationValue += 1;
  }
}
