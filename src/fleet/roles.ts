import type { FleetKeys } from './keys.js';

/** One etcd permission: a key, or every key under a prefix (`etcdctl role grant-permission --prefix`). */
export interface FleetGrant {
  readonly access: 'read' | 'write' | 'readwrite';
  readonly key: string;
  readonly prefix: boolean;
}

/**
 * The publisher's role: writes every group's document and the listed nodes' own
 * documents (etcd grants by key or prefix only, so each node's `desired` key is
 * granted by name, never `nodes/` as a whole: that would let it forge reports),
 * reads every report and alive key, and may free rollout slots.
 */
export function publisherGrants(keys: FleetKeys, nodes: readonly string[]): FleetGrant[] {
  return [
    { access: 'readwrite', key: keys.groupsDir(), prefix: true },
    { access: 'read', key: keys.nodesDir(), prefix: true },
    ...nodes.map((node) => ({
      access: 'readwrite' as const,
      key: keys.nodeDesired(node),
      prefix: false,
    })),
    { access: 'readwrite', key: `${keys.prefix}/rollouts/`, prefix: true },
  ];
}

/**
 * A node's role: read its groups' documents and its own, write only its own report
 * and alive key, and take its groups' rollout slots. (etcd cannot restrict a slot
 * to the node that holds it: any node of a group may delete that group's slots.)
 */
export function nodeGrants(keys: FleetKeys, node: string, groups: readonly string[]): FleetGrant[] {
  return [
    ...groups.map((group) => ({
      access: 'read' as const,
      key: keys.groupDesired(group),
      prefix: false,
    })),
    { access: 'read', key: keys.nodeDesired(node), prefix: false },
    { access: 'readwrite', key: keys.nodeReport(node), prefix: false },
    { access: 'readwrite', key: keys.nodeAlive(node), prefix: false },
    ...groups.map((group) => ({
      access: 'readwrite' as const,
      key: keys.rolloutSlotsDir(group),
      prefix: true,
    })),
  ];
}
