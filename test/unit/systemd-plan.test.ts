import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../src/document/document.js';
import { DocumentValidator } from '../../src/document/validator.js';
import { ErrorName, OpdbusError } from '../../src/errors.js';
import type { Message } from '../../src/dbus/bus.js';
import { JobWaiter } from '../../src/plugins/systemd/job-waiter.js';
import { MISSING_UNIT, planUnits, type UnitState } from '../../src/plugins/systemd/plan.js';
import { sectionFromListings } from '../../src/plugins/systemd/query.js';
import { SystemdSection, type UnitSpec } from '../../src/plugins/systemd/schema.js';
import { unitNameFromPath } from '../../src/plugins/systemd/unit-path.js';

function unit(activeState: string, unitFileState: string | null, loadState = 'loaded'): UnitState {
  return { loadState, activeState, subState: '', unitFileState, needDaemonReload: false };
}

function planOne(spec: UnitSpec, state: UnitState) {
  const [change] = planUnits({ units: { 'x.service': spec } }, new Map([['x.service', state]]));
  assert.ok(change);
  return { action: change.action, from: change.from };
}

describe('systemd planning (pure)', () => {
  const table: [string, UnitSpec, UnitState, string][] = [
    ['running and wanted running', { active_state: 'active' }, unit('active', 'enabled'), 'none'],
    [
      'reloading counts as running',
      { active_state: 'active' },
      unit('reloading', 'enabled'),
      'none',
    ],
    [
      'stopped and wanted running',
      { active_state: 'active' },
      unit('inactive', 'disabled'),
      'start',
    ],
    ['failed and wanted running', { active_state: 'active' }, unit('failed', 'disabled'), 'start'],
    [
      'still starting: start (waits)',
      { active_state: 'active' },
      unit('activating', null),
      'start',
    ],
    ['failed counts as stopped', { active_state: 'inactive' }, unit('failed', 'disabled'), 'none'],
    ['running and wanted stopped', { active_state: 'inactive' }, unit('active', 'enabled'), 'stop'],
    ['enabled as wanted', { enabled: true }, unit('inactive', 'enabled'), 'none'],
    ['disabled, wanted enabled', { enabled: true }, unit('inactive', 'disabled'), 'enable'],
    [
      'enabled-runtime is made persistent',
      { enabled: true },
      unit('active', 'enabled-runtime'),
      'enable',
    ],
    [
      'enabled-runtime, wanted disabled',
      { enabled: false },
      unit('active', 'enabled-runtime'),
      'disable',
    ],
    ['linked is not enabled', { enabled: true }, unit('inactive', 'linked'), 'enable'],
    ['linked, wanted disabled: nothing', { enabled: false }, unit('inactive', 'linked'), 'none'],
    [
      'static, wanted enabled: enable (fails at apply)',
      { enabled: true },
      unit('inactive', 'static'),
      'enable',
    ],
    ['static, wanted disabled: nothing', { enabled: false }, unit('inactive', 'static'), 'none'],
    ['alias, wanted disabled: nothing', { enabled: false }, unit('active', 'alias'), 'none'],
    [
      'generated, wanted disabled: nothing',
      { enabled: false },
      unit('active', 'generated'),
      'none',
    ],
    ['masked, wanted disabled: nothing', { enabled: false }, unit('inactive', 'masked'), 'none'],
    ['masked as wanted', { masked: true }, unit('inactive', 'masked'), 'none'],
    [
      'masked-runtime is made persistent',
      { masked: true },
      unit('inactive', 'masked-runtime'),
      'mask',
    ],
    [
      'masked-runtime, wanted unmasked',
      { masked: false },
      unit('inactive', 'masked-runtime'),
      'unmask',
    ],
    ['not masked as wanted', { masked: false }, unit('inactive', 'static'), 'none'],
    [
      'masked, wanted enabled and running: every step in order',
      { active_state: 'active', enabled: true, masked: false },
      unit('inactive', 'masked', 'masked'),
      'unmask+enable+start',
    ],
    [
      'masked, wanted unmasked and disabled: disable behind the mask too',
      { enabled: false, masked: false },
      unit('inactive', 'masked', 'masked'),
      'unmask+disable',
    ],
    [
      'running and enabled, wanted masked: stop, disable, mask',
      { active_state: 'inactive', enabled: false, masked: true },
      unit('active', 'enabled'),
      'stop+disable+mask',
    ],
    [
      'already as wanted in every field',
      { active_state: 'inactive', enabled: false, masked: true },
      unit('inactive', 'masked', 'masked'),
      'none',
    ],
  ];
  for (const [title, spec, state, action] of table) {
    it(title, () => assert.equal(planOne(spec, state).action, action));
  }

  it('a unit that does not exist is from null; wanting it stopped or disabled changes nothing', () => {
    assert.deepEqual(planOne({ active_state: 'inactive', enabled: false }, MISSING_UNIT), {
      action: 'none',
      from: null,
    });
    assert.deepEqual(planOne({ masked: true }, MISSING_UNIT), { action: 'mask', from: null });
  });

  it('from and to name only the fields the document names, with odd states spelled out', () => {
    const [change] = planUnits(
      { units: { 'a.service': { enabled: true } } },
      new Map([['a.service', unit('active', 'static')]]),
    );
    assert.deepEqual(change?.from, { enabled: 'static' });
    assert.deepEqual(change?.to, { enabled: true });
    assert.deepEqual(
      planOne({ masked: false, active_state: 'active' }, unit('failed', 'masked-runtime')).from,
      {
        masked: 'masked-runtime',
        active_state: 'failed',
      },
    );
  });

  it('one change per unit, in the document order, and a unit not observed counts as missing', () => {
    const changes = planUnits(
      { units: { 'b.service': { enabled: false }, 'a.socket': { active_state: 'active' } } },
      new Map([['b.service', unit('inactive', 'enabled')]]),
    );
    assert.deepEqual(
      changes.map((c) => [c.resource, c.action, c.steps]),
      [
        ['b.service', 'disable', ['disable']],
        ['a.socket', 'start', ['start']],
      ],
    );
  });
});

describe('systemd query (pure)', () => {
  const files = [
    { path: '/etc/systemd/system/nginx.service', state: 'enabled' },
    { path: '/usr/lib/systemd/system/nginx.service', state: 'disabled' },
    { path: '/usr/lib/systemd/system/cron.service', state: 'disabled' },
    { path: '/etc/systemd/system/telnet.socket', state: 'masked' },
    { path: '/etc/systemd/system/busy.service', state: 'masked' },
    { path: '/usr/lib/systemd/system/dbus.service', state: 'static' },
    { path: '/etc/systemd/system/op-dbus.service', state: 'masked' },
    { path: '/usr/lib/systemd/system/systemd-journald.socket', state: 'enabled' },
    { path: '/run/systemd/system/rt.service', state: 'enabled-runtime' },
    { path: '/run/systemd/system/rt-masked.service', state: 'masked-runtime' },
    { path: '/usr/lib/systemd/system/getty@.service', state: 'enabled' },
    { path: '/usr/lib/systemd/system/dev-disk-by\\x2duuid-1.swap', state: 'enabled' },
    { path: '/usr/lib/systemd/system/starting.service', state: 'enabled' },
  ];
  const loaded = [
    { name: 'nginx.service', activeState: 'active' },
    { name: 'busy.service', activeState: 'active' },
    { name: 'rt.service', activeState: 'active' },
    { name: 'systemd-journald.socket', activeState: 'inactive' },
    { name: 'starting.service', activeState: 'activating' },
  ];
  const section = sectionFromListings(files, loaded);

  it('describes enabled, disabled and masked units, runtime ones by their active state; skips static, template and escaped names', () => {
    assert.deepEqual(section, {
      units: {
        'busy.service': { masked: true },
        'cron.service': { enabled: false, active_state: 'inactive' },
        'nginx.service': { enabled: true, active_state: 'active' },
        'rt-masked.service': { active_state: 'inactive' },
        'rt.service': { active_state: 'active' },
        'starting.service': { enabled: true },
        'systemd-journald.socket': { enabled: true },
        'telnet.socket': { masked: true, active_state: 'inactive' },
      },
    });
  });

  it('is a section the schema accepts', () => {
    const validator = new DocumentValidator(
      buildDocumentSchema([{ name: 'systemd', schema: SystemdSection }]),
    );
    validator.check({ version: 1, plugins: { systemd: section } });
  });
});

describe('systemd schema', () => {
  const validator = new DocumentValidator(
    buildDocumentSchema([{ name: 'systemd', schema: SystemdSection }]),
  );
  const check = (units: unknown) =>
    validator.check({ version: 1, plugins: { systemd: { units } } });
  const refusal = (units: unknown): string => {
    try {
      check(units);
    } catch (err) {
      assert.ok(err instanceof OpdbusError);
      assert.equal(err.dbusName, ErrorName.InvalidDocument);
      return err.message;
    }
    assert.fail('the document was accepted');
  };

  it('accepts the original op-dbus format', () => {
    check({
      'nginx.service': { active_state: 'active', enabled: true },
      'telnet.socket': { active_state: 'inactive', enabled: false, masked: true },
      'getty@tty1.service': { enabled: true },
    });
  });

  for (const name of [
    'dbus.service',
    'dbus.socket',
    'op-dbus.service',
    'systemd-journald.service',
    'systemd-journald.socket',
  ]) {
    it(`refuses to stop or mask ${name}, naming the path`, () => {
      assert.match(
        refusal({ [name]: { active_state: 'inactive' } }),
        new RegExp(
          `/plugins/systemd/units/${name.replace('.', '\\.')}/active_state: must be "active"`,
        ),
      );
      assert.match(
        refusal({ [name]: { masked: true, active_state: 'inactive', enabled: false } }),
        /masked: must be false/,
      );
    });
  }

  it('lets a protected unit be kept running and enabled', () => {
    check({ 'dbus.service': { active_state: 'active', enabled: true } });
  });

  it('refuses names that are not unit names, templates, and contradictions', () => {
    assert.match(refusal({ 'x;rm -rf /.service': { enabled: true } }), /is not a valid name/);
    assert.match(refusal({ nginx: { enabled: true } }), /is not a valid name/);
    assert.match(refusal({ 'getty@.service': { enabled: true } }), /is not a valid name/);
    assert.match(refusal({ [`${'a'.repeat(250)}.service`]: { enabled: true } }), /255/);
    assert.match(refusal({ 'x.service': {} }), /fewer than 1 properties/);
    assert.match(
      refusal({ 'x.service': { active_state: 'running' } }),
      /must be one of "active", "inactive"/,
    );
    assert.match(
      refusal({ 'x.service': { masked: true, active_state: 'active' } }),
      /active_state: must be "inactive"/,
    );
    assert.match(
      refusal({ 'x.service': { masked: true, enabled: true } }),
      /enabled: must be false/,
    );
    assert.match(
      refusal({ 'x.service': { enabled: true, restart: true } }),
      /unknown field 'restart'/,
    );
  });
});

describe('unit object paths', () => {
  it('unescape to unit names', () => {
    assert.equal(
      unitNameFromPath('/org/freedesktop/systemd1/unit/nginx_2eservice'),
      'nginx.service',
    );
    assert.equal(
      unitNameFromPath('/org/freedesktop/systemd1/unit/getty_40tty1_2eservice'),
      'getty@tty1.service',
    );
    assert.equal(
      unitNameFromPath('/org/freedesktop/systemd1/unit/gpg_2dagent_2esocket'),
      'gpg-agent.socket',
    );
    assert.equal(unitNameFromPath('/org/freedesktop/systemd1/job/42'), undefined);
    assert.equal(unitNameFromPath('/org/freedesktop/systemd1/unit/bad_zz'), undefined);
  });
});

describe('JobWaiter', () => {
  const removed = (id: number, job: string, result: string) =>
    ({ body: [id, job, 'x.service', result] }) as unknown as Message;
  const options = (signal = new AbortController().signal, abandoned: string[] = []) => ({
    timeoutMs: 10_000,
    signal,
    abandon: (job: string) => {
      abandoned.push(job);
      return Promise.resolve();
    },
  });

  it('keeps a JobRemoved that arrives before the call that queued the job has returned', async () => {
    const waiter = new JobWaiter();
    const result = await waiter.run(() => {
      waiter.onJobRemoved(removed(7, '/job/7', 'done'));
      return Promise.resolve('/job/7');
    }, options());
    assert.equal(result, 'done');
  });

  it('waits for a JobRemoved that comes later, ignoring other jobs', async () => {
    const waiter = new JobWaiter();
    const pending = waiter.run(() => Promise.resolve('/job/8'), options());
    await Promise.resolve();
    waiter.onJobRemoved(removed(9, '/job/9', 'failed'));
    waiter.onJobRemoved(removed(8, '/job/8', 'canceled'));
    assert.equal(await pending, 'canceled');
  });

  it('an abort stops the wait and abandons (cancels) the job', async () => {
    const waiter = new JobWaiter();
    const controller = new AbortController();
    const abandoned: string[] = [];
    const pending = waiter.run(
      () => Promise.resolve('/job/10'),
      options(controller.signal, abandoned),
    );
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('job cancelled by the user'));
    await assert.rejects(pending, /cancelled by the user/);
    assert.deepEqual(abandoned, ['/job/10']);
  });

  it('a job that never ends times out and is abandoned', async () => {
    const waiter = new JobWaiter();
    const abandoned: string[] = [];
    const pending = waiter.run(() => Promise.resolve('/job/11'), {
      ...options(undefined, abandoned),
      timeoutMs: 20,
    });
    await assert.rejects(
      pending,
      (err: unknown) => err instanceof OpdbusError && err.dbusName === ErrorName.Timeout,
    );
    assert.deepEqual(abandoned, ['/job/11']);
  });
});
