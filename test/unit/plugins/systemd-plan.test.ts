import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MISSING_UNIT, planUnits, type UnitState } from '../../../src/plugins/systemd/plan.js';
import type { UnitSpec } from '../../../src/plugins/systemd/schema.js';

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
