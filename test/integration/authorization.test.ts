import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/dbus/api.js';
import { startPolkit } from '../harness/polkit.js';
import { startStack, type Stack } from '../harness/stack.js';
import { jobIdOf } from '../helpers/bus-client.js';

// A polkit rule as an administrator would write one: members of a group may apply.
// polkit reads groups from the user database, so the test uses a group the host
// already has: 'nogroup', whose member is 'nobody' (uid 65534). 'daemon' (uid 1)
// is an ordinary user outside it.
const RULES = `polkit.addRule(function (action, subject) {
  if (action.id == "org.opdbus.apply" && subject.isInGroup("nogroup")) return polkit.Result.YES;
});
`;
const EMPTY = '{"version":1,"plugins":{}}';

interface Reply {
  ok: boolean;
  out: string;
}

type User = 'daemon' | 'nobody';

/** gdbus as another user (it prints D-Bus error names, busctl does not). */
function callAs(
  stack: Stack,
  who: User,
  path: string,
  iface: string,
  method: string,
  ...args: string[]
): Reply {
  const group = who === 'nobody' ? 'nogroup' : 'daemon';
  const result = spawnSync(
    'setpriv',
    [
      `--reuid=${who}`,
      `--regid=${group}`,
      '--init-groups',
      'gdbus',
      'call',
      '--system',
      '--dest',
      BUS_NAME,
    ].concat(['--object-path', path, '--method', `${iface}.${method}`, ...args]),
    { env: stack.bus.env, encoding: 'utf8' },
  );
  return { ok: result.status === 0, out: `${result.stdout}${result.stderr}` };
}

const manager = (stack: Stack, who: User, method: string, ...args: string[]): Reply =>
  callAs(stack, who, OBJECT_PATH, MANAGER_INTERFACE, method, ...args);

describe('who may change the machine (real polkitd, D-Bus policy, non-root callers)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      backend: 'none',
      services: async (bus) => ({ stoppables: [await startPolkit(bus, RULES)] }),
    });
  });
  after(async () => stack?.stop());

  it('refuses every changing method to an ordinary user, changing nothing', async () => {
    const generation = await stack.client.managerProperty('DesiredGeneration');
    for (const [method, args] of [
      ['Apply', [`'${EMPTY}'`]],
      ['Reconcile', []],
    ] as const) {
      const reply = manager(stack, 'daemon', method, ...args);
      assert.equal(reply.ok, false, `${method} was allowed: ${reply.out}`);
      assert.match(reply.out, /org\.freedesktop\.DBus\.Error\.AccessDenied/);
      assert.match(reply.out, /denied for uid 1 by polkit/);
    }
    const job = await stack.client.apply(EMPTY); // root: always allowed
    const cancel = callAs(stack, 'daemon', job, JOB_INTERFACE, 'Cancel');
    assert.match(cancel.out, /AccessDenied.*org\.opdbus\.cancel/);
    // Only root's Apply counted.
    assert.equal(
      await stack.client.managerProperty('DesiredGeneration'),
      BigInt(generation as bigint) + 1n,
    );
  });

  it('allows every read to an ordinary user', () => {
    assert.match(manager(stack, 'daemon', 'Plan', `'${EMPTY}'`).out, /\('\[\]',\)/);
    assert.match(manager(stack, 'nobody', 'GetDesiredState').out, /version/);
    assert.equal(manager(stack, 'nobody', 'Verify').ok, true);
    assert.equal(manager(stack, 'nobody', 'GetHistory', '5').ok, true);
    assert.equal(manager(stack, 'nobody', 'VerifyHistory').ok, true);
    const properties = callAs(
      stack,
      'nobody',
      OBJECT_PATH,
      'org.freedesktop.DBus.Properties',
      'GetAll',
      MANAGER_INTERFACE,
    );
    assert.match(properties.out, /'Status'/);
    assert.equal(
      callAs(stack, 'nobody', OBJECT_PATH, 'org.freedesktop.DBus.Introspectable', 'Introspect').ok,
      true,
    );
  });

  it('lets a group apply once a polkit rule grants it, and records the caller uid', async () => {
    const reply = manager(stack, 'nobody', 'Apply', `'${EMPTY}'`);
    assert.equal(reply.ok, true, reply.out);
    const path = /objectpath '([^']+)'/.exec(reply.out)?.[1] ?? '';
    assert.ok(jobIdOf(path) > 0, reply.out);
    // The rule grants apply only: reconcile stays refused for the same user.
    assert.match(manager(stack, 'nobody', 'Reconcile').out, /AccessDenied/);
    assert.match(manager(stack, 'daemon', 'Apply', `'${EMPTY}'`).out, /AccessDenied/);
    // The ledger names the caller by the uid the bus reported.
    const deadline = Date.now() + 10_000;
    let records: { job: number; uid: number }[] = [];
    while (Date.now() < deadline) {
      records = JSON.parse(await stack.client.history(50)) as { job: number; uid: number }[];
      if (records.some((r) => r.job === jobIdOf(path))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(records.find((r) => r.job === jobIdOf(path))?.uid, 65534);
  });
});

describe('polkit that cannot answer means no', () => {
  it('denies a non-root Apply when polkit does not know the action', async () => {
    // No op-dbus actions registered: the bus activates the host's polkitd, which
    // answers CheckAuthorization with an error. An error is a refusal.
    const stack = await startStack({ backend: 'none' });
    try {
      const reply = manager(stack, 'nobody', 'Apply', `'${EMPTY}'`);
      assert.equal(reply.ok, false);
      assert.match(reply.out, /AccessDenied/);
      assert.equal(await stack.client.managerProperty('DesiredGeneration'), 0n);
    } finally {
      await stack.stop();
    }
  });
});
