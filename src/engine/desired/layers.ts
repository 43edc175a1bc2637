import type { DesiredDocument } from '../../document/document.js';
import type { EnginePlugin } from '../plugin.js';

/**
 * A named part of the desired state: `local` (what Apply sets over D-Bus),
 * `group:NAME` (a fleet group the node belongs to), `node:ID` (this node).
 * The effective desired state is their union, higher layers winning per
 * resource: node over groups (later groups over earlier) over local.
 */
export interface Layer {
  name: string;
  document: DesiredDocument;
  /** Where it came from: 0 for local; the etcd mod_revision for fleet layers. */
  revision: number;
}

export const LAYER_NAME_PATTERN =
  /^(local|group:[a-z0-9][a-z0-9-]{0,62}|node:[A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;

/** Lowest first: local, then groups in the configured order, then the node's own. */
export function layerRank(name: string, groups: readonly string[]): number {
  if (name === 'local') return 0;
  if (name.startsWith('node:')) return groups.length + 1;
  const index = groups.indexOf(name.slice('group:'.length));
  return index < 0 ? -1 : index + 1;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The default merge of one plugin's section: a field whose value is a map of
 * resources (packages, units, bridges) merges per resource, the higher layer's
 * resource replacing the lower's whole; any other field (a hostname, a list)
 * is the higher layer's. A plugin whose sections need more (lists keyed by
 * name) declares its own `merge`.
 */
export function mergeSections(lower: unknown, higher: unknown): unknown {
  if (!isMap(lower) || !isMap(higher)) return higher;
  const merged: Record<string, unknown> = { ...lower };
  for (const [field, value] of Object.entries(higher)) {
    const below = lower[field];
    merged[field] = isMap(below) && isMap(value) ? { ...below, ...value } : value;
  }
  return merged;
}

/** The effective document of `layers` (sorted lowest first). */
export function mergeLayers(
  plugins: readonly EnginePlugin[],
  layers: readonly Layer[],
): DesiredDocument {
  const sections: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const { name, instance } of plugins) {
      const section = layer.document.plugins[name];
      if (section === undefined) continue;
      const below = sections[name];
      sections[name] =
        below === undefined
          ? section
          : (instance.merge?.(below, section) ?? mergeSections(below, section));
    }
  }
  return { version: 1, plugins: sections };
}

/** The resources a section names, by the default rule (see mergeSections). */
export function namedResources(section: unknown): Set<string> {
  const names = new Set<string>();
  if (!isMap(section)) return names;
  for (const [field, value] of Object.entries(section)) {
    if (isMap(value)) for (const key of Object.keys(value)) names.add(key);
    else names.add(field);
  }
  return names;
}

/**
 * Which layer a plan row's resource comes from: the highest layer whose section
 * names it (a resource `bridge/port` counts as named by its bridge).
 */
export function layerOf(
  plugins: readonly EnginePlugin[],
  layers: readonly Layer[],
  plugin: string,
  resource: string,
): string | undefined {
  const instance = plugins.find((p) => p.name === plugin)?.instance;
  for (const layer of [...layers].reverse()) {
    const section = layer.document.plugins[plugin];
    if (section === undefined) continue;
    const names = new Set(instance?.resources?.(section) ?? namedResources(section));
    if (names.has(resource) || names.has(resource.split('/')[0] ?? resource)) return layer.name;
  }
  return undefined;
}
