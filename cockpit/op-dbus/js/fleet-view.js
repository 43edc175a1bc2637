// The Fleet tab, shown only while the daemon is a node of a fleet (it reports
// FleetConnected, or holds layers besides `local`): FleetConnected live from
// Conditions (PropertiesChanged), the node's layers from GetDesiredLayers, read
// again whenever DesiredGeneration moves or the daemon restarts (no polling), and
// which resources each layer contributes; and every node's status, from the CLI
// (fleet-status-view.js). On a fleet node the editor holds the local layer: Apply
// sets that layer only, and the fleet's are merged over it.
import { byId, coalesce, fill, h, table } from './dom.js';
import {
  connectionText,
  fleetConnection,
  isFleetNode,
  layerContributions,
  LOCAL_LAYER,
  parseLayers,
  revisionText,
} from './fleet-model.js';
import { mountFleetStatus } from './fleet-status-view.js';
import { describeError, formatTime } from './model.js';
import { mountTabs } from './tabs.js';

export function fleetAvailable(capabilities) {
  return capabilities.manager('GetDesiredLayers');
}

function resourcesView(plugins) {
  if (plugins.length === 0) return h('span', { class: 'muted' }, 'names nothing');
  return plugins.map(({ plugin, resources }) =>
    h(
      'div',
      { class: 'layer-plugin', dataset: { plugin } },
      h('span', { class: 'plugin' }, plugin),
      ': ',
      resources.map(({ resource, overriddenBy }, index) => [
        index > 0 ? ', ' : null,
        overriddenBy
          ? h(
              'span',
              { class: 'resource overridden', title: `overridden by ${overriddenBy}` },
              h('s', {}, h('code', {}, resource)),
              ` (overridden by ${overriddenBy})`,
            )
          : h('code', { class: 'resource' }, resource),
      ]),
    ),
  );
}

function layersTable(layers) {
  return table(
    [
      { label: 'Layer', value: (l) => h('strong', {}, l.name) },
      { label: 'Revision', value: (l) => h('span', { class: 'revision' }, revisionText(l)) },
      { label: 'Resources', value: (l) => resourcesView(l.plugins) },
    ],
    layerContributions(layers),
    (l) => `layer-row layer-${l.kind}`,
  );
}

export function mountFleet(ctx) {
  const { api } = ctx;
  const fleetWide = mountFleetStatus();
  // The CLI runs only while someone looks at the tab.
  const tabs = mountTabs((id) => (id === 'tab-fleet' ? fleetWide.start() : fleetWide.stop()));
  /** The last layers read, and the generation and daemon run they belong to. */
  let layers = [];
  let readFailure;
  let known = false;
  let shownLayers;
  /** One GetDesiredLayers per generation and daemon run, shared with the editor. */
  let reading;
  let readFor;
  let owner;

  const readLayers = () => {
    const key = `${owner}\u0000${api.manager.DesiredGeneration}`;
    if (!reading || readFor !== key) {
      readFor = key;
      reading = api.call('GetDesiredLayers').then(([text]) => parseLayers(String(text)));
      // A failed read is not kept: the next change or click tries again.
      reading.catch(() => {
        if (readFor === key) reading = undefined;
      });
    }
    return reading;
  };

  const renderConnection = () => {
    const condition = fleetConnection(api.manager.Conditions);
    const connected = condition?.status === 'True';
    fill(
      byId('fleet-connected'),
      h(
        'span',
        {
          class: `badge ${condition ? (connected ? 'ok' : 'danger') : 'warn'}`,
          dataset: { status: condition?.status ?? 'absent' },
        },
        condition ? `${condition.status} (${connected ? 'connected' : 'disconnected'})` : 'absent',
      ),
    );
    fill(byId('fleet-reason'), condition?.reason || '—');
    fill(byId('fleet-message'), condition?.message || '—');
    fill(byId('fleet-since'), condition ? formatTime(new Date(condition.since)) : '—');
    fill(byId('fleet-connection-text'), connectionText(condition));
  };

  const render = coalesce(() => {
    if (!api.manager.valid || !known) return;
    const fleet = isFleetNode(layers, api.manager.Conditions);
    tabs.setAvailable('tab-fleet', fleet);
    document.body.dataset.fleet = fleet ? 'node' : 'none';
    const note = byId('editor-layer-note');
    note.hidden = !fleet;
    fill(
      note,
      fleet
        ? 'This daemon is a fleet node: the editor holds its local layer, which Apply replaces; ' +
            "the fleet's layers (see the Fleet tab) are merged over it, and Plan's Layer column " +
            'says where each resource comes from.'
        : '',
    );
    if (!fleet) return;
    renderConnection();
    const error = byId('fleet-error');
    error.hidden = !readFailure;
    fill(error, readFailure ? `${readFailure.title}: ${readFailure.message}` : '');
    // Rebuilt only when the layers change, not on every property change: a person
    // selecting text in the table keeps it.
    if (layers !== shownLayers) fill(byId('fleet-layers'), layersTable(layers));
    shownLayers = layers;
  });

  let sequence = 0;
  const refresh = async () => {
    const mine = ++sequence;
    try {
      const next = await readLayers();
      if (mine !== sequence) return;
      layers = next;
      readFailure = undefined;
    } catch (error) {
      if (mine !== sequence) return;
      readFailure = describeError(error);
    }
    known = true;
    render();
  };

  let generation = api.manager.DesiredGeneration;
  let connected = fleetConnection(api.manager.Conditions)?.status;
  api.manager.addEventListener('changed', () => {
    // etcd lost or back: read the fleet-wide status again (the watch may have died).
    const status = fleetConnection(api.manager.Conditions)?.status;
    if (status !== connected) {
      connected = status;
      fleetWide.nudge();
    }
    const next = api.manager.DesiredGeneration;
    if (next !== undefined && next !== generation) {
      generation = next;
      void refresh();
    }
    render();
  });
  // A restarted daemon may be another kind of node (or none): read again.
  api.client.addEventListener('owner', (_event, next) => {
    if (!next || next === owner) return;
    owner = next;
    void refresh();
  });

  // The editor edits the local layer (on a daemon without fleet layers it is the
  // whole desired state, as GetDesiredState would say).
  ctx.loadDocument = async () => {
    const local = (await readLayers()).find((layer) => layer.name === LOCAL_LAYER);
    if (local) return JSON.stringify(local.document);
    const [text] = await api.call('GetDesiredState');
    return String(text);
  };

  void refresh();
}
