// The document editor and its buttons: Plan (a table), Apply (then follows the job
// to its end), Reconcile. Every failure is shown next to the editor: the
// InvalidDocument problems with their JSON paths, AccessDenied as a plain message.
import { byId, fill, h, table } from './dom.js';
import { isFinal } from './jobs.js';
import { resultView, stateBadge } from './jobs-view.js';
import { describeError, formatChange, formatValue, jobIdFromPath, parsePlan } from './model.js';

function pretty(documentText) {
  try {
    return `${JSON.stringify(JSON.parse(documentText), null, 2)}\n`;
  } catch {
    return documentText;
  }
}

function planTable(rows) {
  const changes = rows.filter((row) => row.action !== 'none').length;
  const columns = [
    { label: 'Plugin', value: (r) => r.plugin },
    { label: 'Resource', value: (r) => r.resource },
    { label: 'Action', value: (r) => h('span', { class: `action action-${r.action}` }, r.action) },
    {
      label: 'From → to',
      value: (r) => (r.action === 'none' ? formatValue(r.to) : formatChange(r.from, r.to)),
    },
  ];
  // On a fleet node every row names the layer its resource comes from.
  if (rows.some((row) => row.layer))
    columns.splice(2, 0, { label: 'Layer', value: (r) => r.layer ?? '' });
  if (rows.some((row) => row.reason))
    columns.push({ label: 'Reason', value: (r) => r.reason ?? '' });
  return h(
    'div',
    { class: 'plan' },
    h('h3', {}, 'Plan'),
    h(
      'p',
      { class: 'plan-summary' },
      `${changes} change${changes === 1 ? '' : 's'}, ${rows.length - changes} already as desired.`,
    ),
    table(
      columns,
      rows,
      (r) => `plan-row ${r.action === 'none' ? 'unchanged' : 'change'} plan-${r.action}`,
    ),
  );
}

export function mountEditor(ctx) {
  const { api, jobs } = ctx;
  const editor = byId('document');
  const message = byId('editor-message');
  const problems = byId('problems');
  const buttons = ['plan-button', 'apply-button', 'reconcile-button', 'reload-button'].map(byId);
  let dirty = false;
  /** The job this page started: its id and the daemon run (epoch) it belongs to. */
  let followed;

  const say = (kind, ...content) => {
    message.dataset.kind = kind;
    message.className = `message ${kind}`;
    fill(message, ...content);
  };
  const showError = (error) => {
    const described = describeError(error);
    say(
      described.kind,
      h('strong', {}, described.title),
      h('div', { class: 'detail' }, described.problems.length ? '' : described.message),
    );
    fill(
      problems,
      described.problems.map((p) =>
        h(
          'li',
          { dataset: { path: p.path } },
          p.path ? h('code', { class: 'path' }, p.path) : null,
          ` ${p.problem}`,
        ),
      ),
    );
  };

  /** Runs one call with the buttons disabled, showing its failure if it fails. */
  const busy = async (work) => {
    for (const button of buttons) button.disabled = true;
    fill(problems);
    try {
      await work();
    } catch (error) {
      showError(error);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  };

  // What the editor holds: the daemon's desired state, or on a fleet node the
  // local layer (the fleet feature's loadDocument), which is what Apply replaces.
  const load = async () => {
    const text = ctx.loadDocument
      ? await ctx.loadDocument()
      : String((await api.call('GetDesiredState'))[0]);
    editor.value = pretty(text);
    dirty = false;
  };

  const renderFollowed = () => {
    const job = followed?.epoch === jobs.epoch ? jobs.get(followed.id) : undefined;
    if (!job) return;
    const what = `Job ${job.id}${job.kind ? ` (${job.kind})` : ''}`;
    if (!isFinal(job.state)) {
      say('progress', what, ' ', stateBadge(job.state), ` ${job.percentage}%`);
      return;
    }
    // The end is shown once the Result property has arrived (it may trail JobRemoved).
    if (!job.result && job.state !== 'cancelled') return;
    say(
      job.state === 'done' ? 'success' : 'error',
      what,
      ' ',
      stateBadge(job.state),
      resultView(job),
    );
  };

  const follow = (jobPath) => {
    followed = { id: jobIdFromPath(jobPath), epoch: jobs.epoch };
    renderFollowed();
  };

  buttons[0].addEventListener('click', () =>
    busy(async () => {
      const [plan] = await api.call('Plan', [editor.value]);
      const rows = parsePlan(plan);
      fill(byId('plan'), planTable(rows));
      say('info', 'Plan ready: nothing was changed.');
    }),
  );
  buttons[1].addEventListener('click', () =>
    busy(async () => {
      say('progress', 'Applying…');
      follow(await ctx.apply(editor.value));
      dirty = false;
    }),
  );
  buttons[2].addEventListener('click', () =>
    busy(async () => {
      const [job] = await api.call('Reconcile');
      follow(job);
    }),
  );
  buttons[3].addEventListener('click', () =>
    busy(async () => {
      await load();
      say('info', "Loaded the daemon's desired state.");
    }),
  );
  editor.addEventListener('input', () => {
    dirty = true;
  });
  jobs.addEventListener('changed', (_e, job) => {
    if (job && job.id === followed?.id) renderFollowed();
  });
  // Someone else applied a document: show it, unless the user is editing.
  let generation;
  const onManagerChanged = () => {
    const next = api.manager.DesiredGeneration;
    if (next === undefined || next === generation) return;
    generation = next;
    if (!dirty) load().catch(showError);
  };
  api.manager.addEventListener('changed', onManagerChanged);
  onManagerChanged();
}

/** The plain Apply; optional features (confirm/rollback) wrap it. */
export function plainApply(api) {
  return async (documentText) => {
    const [job] = await api.call('Apply', [documentText]);
    return job;
  };
}
