// Status, generations, last reconcile, drift count and conditions: straight from
// the manager's properties, redrawn on every PropertiesChanged.
import { byId, fill, h, table } from './dom.js';
import { dateFromUsec, formatTime, parseConditions } from './model.js';

const STATUS_CLASS = {
  idle: 'ok',
  applying: 'busy',
  reconciling: 'busy',
  'correcting-drift': 'busy',
  stopping: 'warn',
};

/** Is a condition in the state one hopes for? (Ready True; the others False.) */
function healthy(condition) {
  return (condition.type === 'Ready') === (condition.status === 'True');
}

export function mountStatus({ api }) {
  const { manager, client } = api;
  const render = () => {
    if (!manager.valid) return;
    const status = String(manager.Status ?? '');
    fill(byId('status-value'), h('span', { class: `badge ${STATUS_CLASS[status] ?? ''}` }, status));
    fill(byId('desired-generation'), String(manager.DesiredGeneration ?? '—'));
    fill(byId('applied-generation'), String(manager.AppliedGeneration ?? '—'));
    const last = dateFromUsec(manager.LastReconcile);
    fill(byId('last-reconcile'), last ? formatTime(last) : 'never');
    fill(byId('drift-count'), String(manager.DriftCount ?? '—'));
    fill(byId('daemon-version'), manager.Version ? `version ${manager.Version}` : '');
    const conditions = parseConditions(manager.Conditions);
    fill(
      byId('conditions'),
      table(
        [
          { label: 'Condition', value: (c) => c.type },
          {
            label: 'Status',
            value: (c) => h('span', { class: `badge ${healthy(c) ? 'ok' : 'warn'}` }, c.status),
          },
          { label: 'Reason', value: (c) => c.reason },
          { label: 'Message', value: (c) => c.message },
          { label: 'Since', value: (c) => formatTime(new Date(c.since)) },
        ],
        conditions,
        (c) => `condition-${c.type}`,
      ),
    );
  };
  manager.addEventListener('changed', render);

  const presence = byId('daemon-presence');
  const showOwner = (owner) => {
    presence.className = `badge ${owner ? 'ok' : 'danger'}`;
    presence.textContent = owner ? 'running' : 'not running';
  };
  client.addEventListener('owner', (_e, owner) => showOwner(owner));
  client.addEventListener('close', (_e, options) => {
    presence.className = 'badge danger';
    presence.textContent = `disconnected (${options?.problem ?? 'closed'})`;
  });
  render();
}
