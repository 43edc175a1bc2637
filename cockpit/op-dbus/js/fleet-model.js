// Pure functions for the fleet tab: GetDesiredLayers' answer, the FleetConnected
// condition, and which resources each layer contributes. No DOM, no cockpit: the
// unit tests import this file and compare it with the daemon's own functions.
import { parseConditions, parseJson } from './model.js';

export const LOCAL_LAYER = 'local';
export const FLEET_CONDITION = 'FleetConnected';

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
const keysOf = (value) => (isObject(value) ? Object.keys(value) : []);

/**
 * GetDesiredLayers' JSON ({layers: [{name, revision, document}]}), lowest precedence
 * first as the daemon sends them. Entries without a string name are dropped; a
 * revision that is not a number shows as undefined; a document that is not an
 * object counts as naming nothing.
 */
export function parseLayers(layersText) {
  const parsed = parseJson(layersText, undefined);
  const layers = isObject(parsed) && Array.isArray(parsed.layers) ? parsed.layers : [];
  return layers
    .filter((layer) => isObject(layer) && typeof layer.name === 'string' && layer.name !== '')
    .map((layer) => ({
      name: layer.name,
      revision: Number.isFinite(layer.revision) ? layer.revision : undefined,
      document: isObject(layer.document) ? layer.document : { version: 1, plugins: {} },
    }));
}

/** 'group' for group:NAME, 'node' for node:ID, 'local', or 'other'. */
export function layerKind(name) {
  if (name === LOCAL_LAYER) return 'local';
  if (name.startsWith('group:')) return 'group';
  if (name.startsWith('node:')) return 'node';
  return 'other';
}

/** The FleetConnected condition from the Conditions property, or undefined. */
export function fleetConnection(conditionsText) {
  return parseConditions(conditionsText).find((c) => c.type === FLEET_CONDITION);
}

/**
 * Is the daemon a node of a fleet? It is when it reports FleetConnected (only a
 * daemon with a `fleet` configuration section does), or holds any layer besides
 * `local` (e.g. restored from disk before its first connection).
 */
export function isFleetNode(layers, conditionsText) {
  return (
    fleetConnection(conditionsText) !== undefined ||
    layers.some((layer) => layer.name !== LOCAL_LAYER)
  );
}

/**
 * A network route's resource name, as the daemon writes it (src/plugins/network/
 * model.ts routeResource), except that the daemon first puts addresses in
 * canonical form; the page shows them as the document wrote them.
 */
function routeResource(route) {
  const parts = [`route ${route.destination}`];
  if (route['next-hop-address'] !== undefined) parts.push(`via ${route['next-hop-address']}`);
  parts.push(`dev ${route['next-hop-interface']}`);
  if (route.metric !== undefined) parts.push(`metric ${route.metric}`);
  if (route['table-id'] !== undefined) parts.push(`table ${route['table-id']}`);
  return parts.join(' ');
}

/** The plugins that name their resources in their own way (their `resources()`). */
const PLUGIN_RESOURCES = {
  packagekit: (section) => [
    ...keysOf(section.packages),
    ...keysOf(section.repositories).map((name) => `repository:${name}`),
  ],
  network: (section) => {
    const names = [];
    const interfaces = Array.isArray(section.interfaces) ? section.interfaces : [];
    for (const iface of interfaces) if (isObject(iface)) names.push(String(iface.name));
    const routes = isObject(section.routes) ? section.routes.config : undefined;
    for (const route of Array.isArray(routes) ? routes : [])
      if (isObject(route)) names.push(routeResource(route));
    const dns = isObject(section['dns-resolver']) ? section['dns-resolver'].config : undefined;
    if (isObject(dns)) {
      if (dns.server !== undefined) names.push('dns-resolver/config/server');
      if (dns.search !== undefined) names.push('dns-resolver/config/search');
    }
    return [...new Set(names)];
  },
};

/**
 * The resources one plugin's section names: the plugin's own rule where it has
 * one, else the daemon's default (src/engine/desired/layers.ts namedResources):
 * a field whose value is a map names each key (units, packages, bridges); any
 * other field names itself (a hostname's `static`).
 */
export function sectionResources(plugin, section) {
  if (!isObject(section)) return [];
  const own = PLUGIN_RESOURCES[plugin];
  if (own) return own(section);
  const names = new Set();
  for (const [field, value] of Object.entries(section)) {
    if (isObject(value)) for (const key of Object.keys(value)) names.add(key);
    else names.add(field);
  }
  return [...names];
}

/**
 * What each layer contributes, lowest first: per layer, its resources by plugin,
 * each with `overriddenBy`, the name of the highest layer above it that names the
 * same resource (the daemon merges per resource, the higher layer winning), or
 * undefined when this layer's value is the one in effect.
 */
export function layerContributions(layers) {
  const named = layers.map((layer) => {
    const plugins = isObject(layer.document.plugins) ? layer.document.plugins : {};
    return Object.entries(plugins).map(([plugin, section]) => ({
      plugin,
      resources: sectionResources(plugin, section),
    }));
  });
  const winner = new Map();
  named.forEach((sections, index) => {
    for (const { plugin, resources } of sections)
      for (const resource of resources) winner.set(`${plugin}\u0000${resource}`, index);
  });
  return layers.map((layer, index) => ({
    name: layer.name,
    kind: layerKind(layer.name),
    revision: layer.revision,
    plugins: named[index].map(({ plugin, resources }) => ({
      plugin,
      resources: resources.map((resource) => {
        const top = winner.get(`${plugin}\u0000${resource}`);
        return { resource, overriddenBy: top > index ? layers[top].name : undefined };
      }),
    })),
  }));
}

/** How a layer's revision reads: local has none (Apply sets it); fleet layers carry etcd's. */
export function revisionText(layer) {
  if (layer.kind === 'local') return 'set by Apply';
  return layer.revision === undefined ? '—' : String(layer.revision);
}

/** FleetConnected in words. */
export function connectionText(condition) {
  if (!condition)
    return 'This daemon reports no FleetConnected condition: it holds fleet layers but does not watch etcd (no fleet section in its configuration).';
  if (condition.status === 'True')
    return 'Watching etcd: new revisions of its layers arrive as they are published.';
  return 'Not hearing etcd: the node keeps serving and converging on the layers it holds, and reconnects with back-off.';
}

// ---- Fleet-wide status: what `op-dbus fleet status --json` prints ----
// Every node's report comes from etcd, written by machines other than this one:
// the CLI checks reports against their schema, but the page checks again (it
// runs whatever `op-dbus` is on the PATH) and bounds every text it shows.

/** The page runs the CLI as installed (scripts/install.sh: /usr/bin/op-dbus). */
export const STATUS_COMMAND = ['op-dbus', 'fleet', 'status', '--json'];
export const WATCH_COMMAND = ['op-dbus', 'fleet', 'watch'];
const MAX_NODES = 500;
const MAX_TEXT = 300;

const bounded = (value) => {
  const s = typeof value === 'string' ? value : '';
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s;
};
const revision = (value) => (Number.isSafeInteger(value) && value >= 0 ? value : null);

function parseNodeLayer(layer) {
  return {
    layer: bounded(layer.layer),
    applied: revision(layer.applied),
    published: revision(layer.published),
    outcome: typeof layer.outcome === 'string' ? bounded(layer.outcome) : undefined,
    waiting: layer.waiting === true,
    refused: Array.isArray(layer.refused) ? layer.refused.slice(0, 20).map(bounded) : undefined,
  };
}

/** The report's lastResult (src/daemon/fleet-node.ts: {job, kind, state, summary}) in words. */
export function resultText(lastResult) {
  if (!isObject(lastResult)) return '—';
  const count = (key) =>
    isObject(lastResult.summary) && Number.isFinite(lastResult.summary[key])
      ? lastResult.summary[key]
      : 0;
  const job = Number.isSafeInteger(lastResult.job) ? `job ${lastResult.job}` : 'job';
  const kind = typeof lastResult.kind === 'string' ? ` (${bounded(lastResult.kind)})` : '';
  const state = typeof lastResult.state === 'string' ? bounded(lastResult.state) : 'ended';
  return `${job}${kind} ${state}: ${count('changed')} changed, ${count('unchanged')} unchanged, ${count('failed')} failed`;
}

function parseNode(entry, now) {
  const report = isObject(entry.report) ? entry.report : undefined;
  const time = report && typeof report.time === 'string' ? Date.parse(report.time) : NaN;
  const layers = (Array.isArray(entry.layers) ? entry.layers : [])
    .filter((layer) => isObject(layer) && typeof layer.layer === 'string')
    .map(parseNodeLayer);
  return {
    node: bounded(entry.node),
    alive: entry.alive === true,
    generation: report && Number.isSafeInteger(report.generation) ? report.generation : undefined,
    result: report ? resultText(report.lastResult) : '—',
    reportAgeSeconds: Number.isFinite(time)
      ? Math.max(0, Math.round((now - time) / 1000))
      : undefined,
    layers,
    // A layer lags while the revision the node holds is not the one published.
    behind: layers.filter((l) => l.published !== null && l.applied !== l.published),
    problems: (Array.isArray(entry.problems) ? entry.problems : [])
      .filter((p) => typeof p === 'string')
      .slice(0, 20)
      .map(bounded),
  };
}

/**
 * `fleet status --json`'s stdout ({revision, nodes: [{node, alive, report, layers,
 * problems}], exitCode}) as rows, or undefined when it is not that. Nodes without a
 * string name are dropped.
 */
export function parseFleetStatus(stdout, now = Date.now()) {
  const parsed = parseJson(typeof stdout === 'string' ? stdout.trim() : '', undefined);
  if (!isObject(parsed) || !Array.isArray(parsed.nodes)) return undefined;
  return {
    revision: revision(parsed.revision),
    nodes: parsed.nodes
      .filter((entry) => isObject(entry) && typeof entry.node === 'string' && entry.node !== '')
      .slice(0, MAX_NODES)
      .map((entry) => parseNode(entry, now)),
  };
}

/**
 * What one run of STATUS_COMMAND through cockpit.spawn came to: {status} or
 * {error}. `run` is {exitStatus, problem, message, stdout}: exitStatus 0 for
 * success; the CLI exits 1 when a node failed, lags or is dead, still printing the
 * status, so 1 with parseable output is a status too. Anything else is a failure,
 * said in the CLI's own words (its stderr, which cockpit gives as the message).
 */
export function statusFromRun(run, now = Date.now()) {
  const { exitStatus, problem } = run;
  const message = bounded(typeof run.message === 'string' ? run.message.trim() : '');
  if (problem === 'not-found')
    return {
      error: `op-dbus fleet status could not run: the op-dbus command is not installed on this machine's PATH (scripts/install.sh puts it in /usr/bin).${message ? ` ${message}` : ''}`,
    };
  if (problem) return { error: `op-dbus fleet status could not run: ${message || problem}` };
  if (exitStatus === 0 || exitStatus === 1) {
    const status = parseFleetStatus(run.stdout, now);
    if (status) return { status };
    return { error: 'op-dbus fleet status printed something that is not a fleet status.' };
  }
  const how = Number.isInteger(exitStatus) ? `exit status ${exitStatus}` : 'it was stopped';
  // Without administrative access the CLI runs as the user, who may not read root's file.
  const hint = /cannot read configuration .*EACCES/.test(message)
    ? " Reading the daemon's configuration needs administrative access: turn it on in Cockpit."
    : '';
  return {
    error: `op-dbus fleet status failed (${how}): ${message || 'it printed no reason.'}${hint}`,
  };
}

/** A node's layer as `fleet status` prints it (formatStatusLine): "group:web 5/7 done", "waiting" for a rollout slot. */
export function nodeLayerText(layer) {
  const state = layer.waiting ? 'waiting' : (layer.outcome ?? '-');
  return `${layer.layer} ${layer.applied ?? '-'}/${layer.published ?? '-'} ${state}`;
}

/** The lag column: which layers are behind what is published, and how old the report is. */
export function lagText(node) {
  const behind = node.behind.map(
    (l) => `${l.layer} at ${l.applied ?? 'none'}, published ${l.published}`,
  );
  const age =
    node.reportAgeSeconds === undefined ? 'no report' : `report ${node.reportAgeSeconds} s old`;
  return [behind.length > 0 ? behind.join('; ') : 'in step', age].join(' · ');
}
