/**
 * The fleet's etcd key layout. Every name that becomes part of a key is checked
 * here first, so no group name or node id can reach into another's keys.
 *
 *   <prefix>/groups/<group>/desired     a group's document (its mod_revision is the layer's revision)
 *   <prefix>/nodes/<id>/desired         one node's document
 *   <prefix>/nodes/<id>/report          what the node last reported (written by the node)
 *   <prefix>/nodes/<id>/alive           bound to the node's lease: gone when the node is
 *   <prefix>/rollouts/<group>/slots/<k> rollout slot k of a group (lease-bound), k < max_unavailable
 *
 * Slots live outside `groups/` so that a node's watch of a group's document does not
 * see every other node taking and releasing slots.
 */

/** A group name or node id: letters, digits, '.', '_', '-'; starts with a letter or digit. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const NAME = new RegExp(NAME_PATTERN);
/** A key prefix: '/' then segments of the same characters, no trailing '/'. */
export const PREFIX_PATTERN = '^(/[A-Za-z0-9._-]+)+$';
const PREFIX = new RegExp(PREFIX_PATTERN);

export const DEFAULT_PREFIX = '/opdbus';

export type LayerName = `group:${string}` | `node:${string}`;

export class FleetNameError extends Error {}

export function checkName(what: 'group' | 'node id', name: string): string {
  if (!NAME.test(name)) {
    throw new FleetNameError(`invalid ${what} '${name.slice(0, 80)}': must match ${NAME_PATTERN}`);
  }
  return name;
}

export function checkPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) {
    throw new FleetNameError(
      `invalid key prefix '${prefix.slice(0, 80)}': must match ${PREFIX_PATTERN}`,
    );
  }
  return prefix;
}

export function groupLayer(group: string): LayerName {
  return `group:${checkName('group', group)}`;
}

export function nodeLayer(node: string): LayerName {
  return `node:${checkName('node id', node)}`;
}

/** Where a layer's document is published, and which layer a watched key is. */
export interface LayerSource {
  readonly layer: LayerName;
  readonly key: string;
  /** A group's document may carry rollout settings; a node's may not. */
  readonly kind: 'group' | 'node';
}

export class FleetKeys {
  constructor(readonly prefix: string) {
    checkPrefix(prefix);
  }

  groupDesired(group: string): string {
    return `${this.prefix}/groups/${checkName('group', group)}/desired`;
  }

  nodeDesired(node: string): string {
    return `${this.nodeDir(node)}desired`;
  }

  nodeReport(node: string): string {
    return `${this.nodeDir(node)}report`;
  }

  nodeAlive(node: string): string {
    return `${this.nodeDir(node)}alive`;
  }

  /** `<prefix>/nodes/<id>/`: every key of one node. */
  nodeDir(node: string): string {
    return `${this.prefix}/nodes/${checkName('node id', node)}/`;
  }

  /** `<prefix>/nodes/`: every node's keys (status and watch read reports and alive keys). */
  nodesDir(): string {
    return `${this.prefix}/nodes/`;
  }

  groupsDir(): string {
    return `${this.prefix}/groups/`;
  }

  rolloutSlotsDir(group: string): string {
    return `${this.prefix}/rollouts/${checkName('group', group)}/slots/`;
  }

  rolloutSlot(group: string, index: number): string {
    if (!Number.isInteger(index) || index < 0) throw new FleetNameError(`invalid slot ${index}`);
    return `${this.rolloutSlotsDir(group)}${index}`;
  }

  /** The layers a node takes, in precedence order (groups in configured order, then its own). */
  layerSources(node: string, groups: readonly string[]): LayerSource[] {
    return [
      ...groups.map((group) => ({
        layer: groupLayer(group),
        key: this.groupDesired(group),
        kind: 'group' as const,
      })),
      { layer: nodeLayer(node), key: this.nodeDesired(node), kind: 'node' as const },
    ];
  }

  /**
   * Which node and which of its keys a key under `<prefix>/nodes/` is; undefined for
   * anything else (a key someone else wrote there is ignored, never trusted).
   */
  parseNodeKey(key: string): { node: string; entry: 'desired' | 'report' | 'alive' } | undefined {
    const dir = this.nodesDir();
    if (!key.startsWith(dir)) return undefined;
    const [node, entry, ...rest] = key.slice(dir.length).split('/');
    if (rest.length > 0 || node === undefined || !NAME.test(node)) return undefined;
    if (entry !== 'desired' && entry !== 'report' && entry !== 'alive') return undefined;
    return { node, entry };
  }

  /** Which group a key `<prefix>/groups/<group>/desired` is for. */
  parseGroupKey(key: string): string | undefined {
    const dir = this.groupsDir();
    if (!key.startsWith(dir)) return undefined;
    const [group, entry, ...rest] = key.slice(dir.length).split('/');
    if (rest.length > 0 || entry !== 'desired' || group === undefined || !NAME.test(group)) {
      return undefined;
    }
    return group;
  }
}

/** The end of etcd's range for "every key starting with `prefix`" (prefix + 1 in the last byte). */
export function prefixRangeEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
