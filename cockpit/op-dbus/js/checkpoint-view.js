// Confirm or roll back, shown when the daemon's introspection has ApplyConfirmed:
// Apply gains "roll back unless confirmed within N s", and the pending checkpoint
// shows its deadline with a countdown, what a rollback restores, and Confirm,
// Roll back and Extend. Everything comes from the checkpoint object's properties
// (PropertiesChanged moves the provisional deadline when the probationary job
// ends) and the manager's PendingCheckpoint and CheckpointRemoved; the countdown
// is the page's own clock.
import {
  countdownText,
  describeOutcome,
  NO_OBJECT,
  readCheckpoint,
  restoreSummary,
} from './checkpoint-model.js';
import { byId, coalesce, fill, h } from './dom.js';
import { stateBadge } from './jobs-view.js';
import { describeError, formatTime } from './model.js';

export const CHECKPOINT_INTERFACE = 'org.opdbus.StateManager.Checkpoint';
const DEFAULT_SECONDS = 60;
const MAX_SECONDS = 86400;

export function checkpointAvailable(capabilities) {
  return capabilities.manager('ApplyConfirmed', 'PendingCheckpoint', 'CheckpointRemoved');
}

function secondsInput(id, value) {
  return h('input', { type: 'number', id, min: 1, max: MAX_SECONDS, value, class: 'seconds' });
}

/** The daemon takes 1 to 86400 seconds. */
function secondsOf(input) {
  const value = Math.floor(Number(input.value)) || DEFAULT_SECONDS;
  return Math.min(Math.max(value, 1), MAX_SECONDS);
}

function button(id, kind, label, onclick) {
  return h('button', { type: 'button', id, class: `btn ${kind}`, onclick }, label);
}

export function mountCheckpoint(ctx) {
  const { api, jobs } = ctx;
  const enabled = h('input', { type: 'checkbox', id: 'confirm-enabled' });
  const seconds = secondsInput('confirm-seconds', DEFAULT_SECONDS);
  fill(
    byId('apply-options'),
    h('label', { class: 'inline' }, enabled, ' Roll back unless confirmed within '),
    seconds,
    h('label', { for: 'confirm-seconds' }, ' s'),
  );
  const extendSeconds = secondsInput('extend-seconds', DEFAULT_SECONDS);

  const panel = byId('checkpoint');
  /** The checkpoint shown: the pending one, or the last one until another starts. */
  let proxy;
  /** CheckpointRemoved's outcome, by checkpoint path. */
  const outcomes = new Map();
  /** The last Confirm/Rollback/Extend that failed, shown until the next one. */
  let failure;

  const render = coalesce(() => {
    if (!proxy) {
      fill(panel);
      return;
    }
    const outcome = outcomes.get(proxy.path);
    if (outcome) fill(panel, outcomeView(outcome));
    else if (proxy.valid) fill(panel, checkpointView());
  });

  const show = (path) => {
    if (typeof path !== 'string' || path === NO_OBJECT || proxy?.path === path) return;
    proxy?.removeEventListener('changed', render);
    proxy = api.client.proxy(CHECKPOINT_INTERFACE, path);
    failure = undefined;
    proxy.addEventListener('changed', render);
    render();
  };

  const act = (method, args = []) => {
    const target = proxy;
    return async (event) => {
      event.target.disabled = true;
      try {
        await api.call(method, args(), target.path, CHECKPOINT_INTERFACE);
        failure = undefined;
      } catch (error) {
        failure = describeError(error);
      } finally {
        event.target.disabled = false;
      }
      render();
    };
  };

  const outcomeView = ({ id, outcome }) =>
    h(
      'div',
      {
        id: 'checkpoint-outcome',
        class: `message ${outcome === 'confirmed' ? 'success' : 'warn'}`,
        dataset: { outcome },
        role: 'status',
      },
      h('strong', {}, `Checkpoint ${id}: `),
      h('span', { class: 'outcome' }, outcome),
      `. ${describeOutcome(outcome)}`,
    );

  const checkpointView = () => {
    const checkpoint = readCheckpoint(proxy, (id) => jobs.get(id)?.state);
    const { id, phase } = checkpoint;
    const box = (kind, ...content) =>
      h(
        'div',
        { class: `message ${kind} checkpoint`, dataset: { id: id ?? '', phase }, role: 'alert' },
        ...content,
        failure ? h('div', { class: 'error-text call-failure' }, failure.message) : null,
      );
    if (phase === 'rolling-back') {
      const job = jobs.get(checkpoint.rollbackJobId);
      return box(
        'warn',
        h('strong', {}, `Checkpoint ${id} is being rolled back`),
        `: job ${checkpoint.rollbackJobId} (rollback) `,
        stateBadge(job?.state ?? 'queued'),
      );
    }
    if (phase === 'rollback-failed')
      return box(
        'error',
        h('strong', {}, `The rollback of checkpoint ${id} partly failed. `),
        'The daemon retries it with back-off until it succeeds or a new document supersedes it.',
        h(
          'ul',
          { class: 'failures' },
          checkpoint.failed.map((f) =>
            h('li', {}, h('code', {}, `${f.plugin}/${f.resource}`), `: ${f.error}`),
          ),
        ),
      );
    if (phase !== 'pending')
      return box('info', h('strong', {}, `Checkpoint ${id}: `), phase || 'unknown');
    return pendingView(checkpoint, box);
  };

  const pendingView = (checkpoint, box) => {
    const { deadline, snapshot } = checkpoint;
    const usec = deadline ? String(deadline.getTime() * 1000) : '';
    return box(
      'warn',
      h('strong', {}, `Checkpoint ${checkpoint.id} is pending. `),
      'Unless it is confirmed, op-dbus rolls the machine back at ',
      h('time', { class: 'deadline', dataset: { deadline: usec } }, formatTime(deadline)),
      ' (',
      h(
        'span',
        { class: 'countdown', dataset: { deadline: usec } },
        countdownText(deadline, new Date()),
      ),
      ').',
      checkpoint.provisional
        ? h(
            'div',
            { class: 'provisional' },
            `Provisional: the window starts when job ${checkpoint.jobId} ends, and the deadline moves then.`,
          )
        : null,
      h(
        'div',
        { class: 'snapshot' },
        snapshot.length
          ? `A rollback restores ${restoreSummary(snapshot)}.`
          : 'Nothing captured yet: each plugin is captured just before it changes anything.',
      ),
      h(
        'div',
        { class: 'actions' },
        button(
          'checkpoint-confirm',
          'primary',
          'Confirm',
          act('Confirm', () => []),
        ),
        button(
          'checkpoint-rollback',
          'danger',
          'Roll back',
          act('Rollback', () => []),
        ),
        button(
          'checkpoint-extend',
          'secondary',
          'Extend',
          act('Extend', () => [secondsOf(extendSeconds)]),
        ),
        h('label', { for: 'extend-seconds' }, ' to '),
        extendSeconds,
        h('label', { for: 'extend-seconds' }, ' s from now'),
      ),
    );
  };

  // The countdown only: one tick a second rewrites its text from its own deadline.
  setInterval(() => {
    for (const element of panel.querySelectorAll('.countdown')) {
      const usec = Number(element.dataset.deadline);
      if (usec > 0) element.textContent = countdownText(new Date(usec / 1000), new Date());
    }
  }, 1000);

  const plain = ctx.apply;
  ctx.apply = async (documentText) => {
    if (!enabled.checked) return plain(documentText);
    const [job, checkpoint] = await api.call('ApplyConfirmed', [documentText, secondsOf(seconds)]);
    show(checkpoint);
    return job;
  };
  api.manager.addEventListener('changed', () => show(api.manager.PendingCheckpoint));
  api.manager.addEventListener('CheckpointRemoved', (_event, id, path, outcome) => {
    outcomes.set(path, { id, outcome: String(outcome) });
    show(path);
    render();
  });
  jobs.addEventListener('changed', render);
  show(api.manager.PendingCheckpoint);
}
