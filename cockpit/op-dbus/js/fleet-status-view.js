// The Fleet tab's fleet-wide part: one row per node, as `op-dbus fleet status`
// prints it. The daemon is only a node and serves no fleet-wide view over D-Bus,
// so the page runs the CLI through the bridge (cockpit.spawn), as root when the
// session has administrative access: the CLI reads etcd's endpoints and
// credentials from the daemon's configuration file, which only root may read.
// While the tab is shown, `op-dbus fleet watch` runs too and every line it prints
// (a report or alive key changed, or etcd trouble) reads the status again, so the
// table follows the fleet without polling.
import { byId, fill, h, table } from './dom.js';
import {
  lagText,
  nodeLayerText,
  STATUS_COMMAND,
  statusFromRun,
  WATCH_COMMAND,
} from './fleet-model.js';
import { formatTime } from './model.js';

const SPAWN_OPTIONS = { superuser: 'try', err: 'message' };
/** Lines from the watch arrive in bursts (a publish makes every node report): wait them out. */
const SETTLE_MS = 300;

/**
 * One run of the status command. Cockpit's promise rejects on a non-zero exit and
 * passes stdout as the rejection's second argument, which `await` would drop,
 * hence then(ok, fail) on cockpit's own promise.
 */
function runStatus() {
  return new Promise((resolve) => {
    cockpit.spawn(STATUS_COMMAND, SPAWN_OPTIONS).then(
      (stdout) => resolve({ exitStatus: 0, stdout }),
      (error, stdout) =>
        resolve({
          exitStatus: error?.exit_status ?? null,
          problem: error?.problem ?? null,
          message: error?.message ?? String(error),
          stdout,
        }),
    );
  });
}

function nodesTable(nodes) {
  return table(
    [
      { label: 'Node', value: (n) => h('strong', {}, n.node) },
      {
        label: 'Alive',
        value: (n) =>
          h('span', { class: `badge ${n.alive ? 'ok' : 'danger'}` }, n.alive ? 'alive' : 'DEAD'),
      },
      {
        label: 'Layers (applied/published)',
        value: (n) =>
          n.layers.length === 0
            ? h('span', { class: 'muted' }, 'none reported')
            : n.layers.map((l) => h('div', { class: 'node-layer' }, nodeLayerText(l))),
      },
      {
        label: 'Generation',
        value: (n) => (n.generation === undefined ? '—' : String(n.generation)),
      },
      { label: 'Last result', value: (n) => n.result },
      { label: 'Lag', value: (n) => lagText(n) },
      {
        label: 'Problems',
        value: (n) =>
          n.problems.length === 0 ? '—' : n.problems.map((p) => h('div', { class: 'problem' }, p)),
      },
    ],
    nodes,
    (n) => `fleet-node ${n.problems.length > 0 ? 'has-problems' : 'healthy'}`,
  );
}

export function mountFleetStatus() {
  const card = byId('fleet-wide');
  let running = false;
  let again = false;
  let watcher;
  let settle;
  let runs = 0;

  const show = (outcome) => {
    runs += 1;
    card.dataset.runs = String(runs);
    card.dataset.state = outcome.error ? 'error' : 'ok';
    const error = byId('fleet-wide-error');
    error.hidden = !outcome.error;
    fill(error, outcome.error ?? '');
    // A failure keeps no stale rows: what the page cannot read now it does not show.
    const nodes = outcome.status?.nodes;
    fill(
      byId('fleet-wide-nodes'),
      !nodes
        ? ''
        : nodes.length === 0
          ? h('p', { class: 'muted' }, 'No node has reported yet.')
          : nodesTable(nodes),
    );
    fill(
      byId('fleet-wide-time'),
      outcome.status
        ? `Read ${formatTime(new Date())}${outcome.status.revision === null ? '' : `, etcd revision ${outcome.status.revision}`}.`
        : `Tried ${formatTime(new Date())}.`,
    );
  };

  /** One run at a time; a request during a run makes one more run after it. */
  const refresh = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    card.dataset.busy = 'yes';
    try {
      do {
        again = false;
        show(statusFromRun(await runStatus()));
      } while (again);
    } finally {
      running = false;
      card.dataset.busy = 'no';
    }
  };

  const soon = () => {
    clearTimeout(settle);
    settle = setTimeout(() => void refresh(), SETTLE_MS);
  };

  byId('fleet-wide-refresh').addEventListener('click', () => void refresh());

  let shown = false;
  const watch = () => {
    if (watcher || !shown) return;
    const mine = cockpit.spawn(WATCH_COMMAND, { superuser: 'try', err: 'out' });
    watcher = mine;
    mine.stream(() => soon());
    // The watch ends when it cannot start (etcd away, no credentials: the status
    // run says why) or is closed; nudge() starts it again.
    const ended = () => {
      if (watcher === mine) watcher = undefined;
    };
    mine.then(ended, ended);
  };

  return {
    /** The tab is shown: read now and follow the fleet until it is hidden. */
    start() {
      shown = true;
      void refresh();
      watch();
    },
    stop() {
      shown = false;
      clearTimeout(settle);
      const mine = watcher;
      watcher = undefined;
      mine?.close('terminated');
    },
    /** Something changed that the watch may have missed (this node's connection to etcd). */
    nudge() {
      if (!shown) return;
      void refresh();
      watch();
    },
  };
}
