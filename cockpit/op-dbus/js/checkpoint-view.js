// Confirm or roll back (issue 13), shown only when the daemon's introspection has
// ApplyConfirmed and PendingCheckpoint: Apply gains "roll back unless confirmed
// within N s", and a pending checkpoint shows its countdown with Confirm, Roll back
// and Extend. The countdown is the page's own clock; the deadline comes from the
// checkpoint's Deadline property, the end from CheckpointRemoved.
import { byId, fill, h } from './dom.js';
import { dateFromUsec, describeError, formatTime } from './model.js';

export const CHECKPOINT_INTERFACE = 'org.opdbus.StateManager.Checkpoint';
const NONE = '/';
const DEFAULT_SECONDS = 60;

export function checkpointAvailable(capabilities) {
  return capabilities.manager('ApplyConfirmed', 'PendingCheckpoint');
}

export function mountCheckpoint(ctx) {
  const { api } = ctx;
  const enabled = h('input', { type: 'checkbox', id: 'confirm-enabled' });
  const seconds = h('input', {
    type: 'number',
    id: 'confirm-seconds',
    min: 5,
    max: 86400,
    value: DEFAULT_SECONDS,
    class: 'seconds',
  });
  fill(
    byId('apply-options'),
    h('label', { class: 'inline' }, enabled, ' Roll back unless confirmed within '),
    seconds,
    h('label', { for: 'confirm-seconds' }, ' s'),
  );

  const plain = ctx.apply;
  ctx.apply = async (documentText) => {
    if (!enabled.checked) return plain(documentText);
    const timeout = Math.max(5, Math.floor(Number(seconds.value) || DEFAULT_SECONDS));
    const [job] = await api.call('ApplyConfirmed', [documentText, timeout]);
    return job;
  };

  const panel = byId('checkpoint');
  let proxy;
  let timer;
  /** How the last checkpoint ended (CheckpointRemoved), and the last failed call. */
  let outcome;
  let failure;

  const act =
    (method, args = []) =>
    async () => {
      try {
        await api.call(method, args, proxy.path, CHECKPOINT_INTERFACE);
        failure = undefined;
      } catch (error) {
        failure = describeError(error).message;
      }
      render();
    };

  const render = () => {
    clearInterval(timer);
    if (!proxy?.valid || proxy.State !== 'pending') {
      fill(
        panel,
        outcome ? h('p', { class: 'message info' }, outcome) : null,
        failure ? h('p', { class: 'message error' }, failure) : null,
      );
      return;
    }
    const deadline = dateFromUsec(proxy.Deadline);
    const left = h('span', { class: 'countdown' });
    const tick = () => {
      const ms = deadline ? deadline.getTime() - Date.now() : 0;
      left.textContent = ms > 0 ? `${Math.ceil(ms / 1000)} s left` : 'rolling back…';
    };
    tick();
    timer = setInterval(tick, 1000);
    fill(
      panel,
      h(
        'div',
        { class: 'message warn checkpoint', role: 'alert' },
        h('strong', {}, `Checkpoint ${proxy.Id} is pending. `),
        `The machine goes back to where it was at ${formatTime(deadline)} unless confirmed: `,
        left,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'btn primary', onclick: act('Confirm') }, 'Confirm'),
          h(
            'button',
            { type: 'button', class: 'btn danger', onclick: act('Rollback') },
            'Roll back',
          ),
          h(
            'button',
            { type: 'button', class: 'btn secondary', onclick: act('Extend', [DEFAULT_SECONDS]) },
            `Extend by ${DEFAULT_SECONDS} s`,
          ),
        ),
        failure ? h('div', { class: 'error-text' }, failure) : null,
      ),
    );
  };

  const watch = () => {
    const path = api.manager.PendingCheckpoint;
    if (typeof path !== 'string' || path === NONE) {
      proxy = undefined;
    } else if (proxy?.path !== path) {
      proxy = api.client.proxy(CHECKPOINT_INTERFACE, path);
      outcome = undefined;
      proxy.addEventListener('changed', render);
    }
    render();
  };
  api.manager.addEventListener('changed', watch);
  api.manager.addEventListener('CheckpointRemoved', (_e, id, _path, result) => {
    outcome = `Checkpoint ${id}: ${result}.`;
    render();
  });
  watch();
}
