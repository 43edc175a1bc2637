import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../src/document/document.js';
import { DocumentValidator } from '../../src/document/validator.js';
import type { Authorizer } from '../../src/dbus/authorization.js';
import { CallerLimits } from '../../src/dbus/caller-limits.js';
import { ErrorName, OpdbusError } from '../../src/errors.js';
import { checkpointEntryOf } from '../../src/ledger/job-recorder.js';
import { PLUGINS } from '../../src/plugins/registry.js';

// The Cockpit page's pure functions (cockpit/op-dbus/js/model.js, a browser module
// without a build step), tested in node against what the daemon really sends.
interface Problem {
  path: string;
  problem: string;
}
interface Described {
  kind: string;
  title: string;
  message: string;
  problems: Problem[];
}
interface Model {
  parseProblems(message: string): Problem[];
  describeError(error: unknown): Described;
  parsePlan(
    text: string,
  ): { plugin: string; resource: string; action: string; reason?: string; layer?: string }[];
  formatChange(from: unknown, to: unknown): string;
  parseResult(text: string):
    | {
        summary: Record<string, number>;
        failures: { plugin: string; resource: string; error: string; failure: string }[];
      }
    | undefined;
  describeVerification(text: string): { ok: boolean; text: string };
  parseConditions(text: string): { type: string; status: string }[];
  parseHistory(text: string): {
    job?: number;
    kind: string;
    state: string;
    summary: Record<string, number>;
    checkpoint?: { id: number; deadline: string };
  }[];
  jobIdFromPath(path: string): number | undefined;
  dateFromUsec(usec: unknown): Date | undefined;
}

// A computed specifier: the module is plain JS with no type declarations.
const MODEL_URL = new URL('../../cockpit/op-dbus/js/model.js', import.meta.url).href;
const model = (await import(MODEL_URL)) as Model;

const validator = new DocumentValidator(buildDocumentSchema(PLUGINS));
function invalidDocumentError(text: string): { name: string; message: string } {
  try {
    validator.parse(text);
  } catch (err) {
    assert.ok(err instanceof OpdbusError);
    // Cockpit hands the page D-Bus errors as {name, message}.
    return { name: err.dbusName, message: err.message };
  }
  assert.fail('the document was accepted');
}

describe('the Cockpit page model', () => {
  it("reads every problem of the daemon's real InvalidDocument message with its JSON path", () => {
    const error = invalidDocumentError(
      JSON.stringify({
        version: 2,
        plugins: {
          packagekit: { packages: { 'a;b': { ensure: 'installed' } } },
          hostname: { static: 7 },
        },
      }),
    );
    const described = model.describeError(error);
    assert.equal(described.kind, 'invalid');
    const paths = described.problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      '/plugins/hostname/static',
      '/plugins/packagekit/packages',
      '/version',
    ]);
    const packages = described.problems.find((p) => p.path === '/plugins/packagekit/packages');
    assert.match(packages?.problem ?? '', /^'a;b' is not a valid name/);
  });

  it('keeps a problem without a path (the "... and N more" line) as text', () => {
    const problems = model.parseProblems(
      'invalid document (60 problems):\n  /a: x\n  ... and 10 more',
    );
    assert.deepEqual(problems, [
      { path: '/a', problem: 'x' },
      { path: '', problem: '... and 10 more' },
    ]);
  });

  it('tells AccessDenied and an absent daemon apart from other failures', () => {
    const denied = model.describeError({
      name: ErrorName.AccessDenied,
      message: 'org.opdbus.apply denied for uid 65534 by polkit',
    });
    assert.equal(denied.kind, 'denied');
    assert.match(denied.message, /denied for uid 65534.*administrative access/s);
    assert.equal(
      model.describeError({ name: 'org.freedesktop.DBus.Error.ServiceUnknown', message: 'x' }).kind,
      'absent',
    );
    assert.equal(model.describeError({ problem: 'access-denied' }).kind, 'denied');
    const other = model.describeError({ name: ErrorName.PluginUnavailable, message: 'no systemd' });
    assert.deepEqual([other.kind, other.message], ['error', 'no systemd']);
  });

  it("says Busy and CheckpointPending in the daemon's own words, each as its own kind", async () => {
    // The real refusal: a second read from a uid allowed one in flight.
    const limits = new CallerLimits({ maxReadsPerUid: 1, maxUnprivilegedDocumentBytes: 1024 }, {
      identify: () => Promise.resolve({ uid: 65534 }),
    } as unknown as Authorizer);
    let release = (): void => undefined;
    const held = limits.read(':1.7', 0, () => new Promise<void>((done) => (release = done)));
    const refusal = await limits
      .read(':1.7', 0, () => Promise.resolve())
      .then(
        () => assert.fail('the second read was not refused'),
        (err: unknown) => err,
      );
    release();
    await held;
    assert.ok(refusal instanceof OpdbusError);
    const busy = model.describeError({ name: refusal.dbusName, message: refusal.message });
    assert.equal(busy.kind, 'busy');
    assert.match(busy.message, /too many requests from uid 65534.*try again/s);

    const pending = model.describeError({
      name: ErrorName.CheckpointPending,
      message:
        'checkpoint 3 is pending until 2026-11-30T21:20:20.737Z: confirm or roll it back first',
    });
    assert.equal(pending.kind, 'pending');
    assert.match(pending.message, /checkpoint 3 is pending.*Nothing was applied/s);
    assert.equal(model.describeError({ name: ErrorName.NoCheckpoint, message: 'x' }).kind, 'error');
  });

  it('keeps well-formed plan rows (with their reason and layer) and drops malformed ones', () => {
    const rows = model.parsePlan(
      JSON.stringify([
        { plugin: 'hostname', resource: 'static', action: 'set', from: 'a', to: 'b' },
        { plugin: 'x', resource: 'y', action: 'none', from: 1, to: 1, reason: 'pinned' },
        { plugin: 'h', resource: 'pretty', action: 'none', layer: 'node:n1', from: 1, to: 1 },
        { plugin: 'h', resource: 'static', action: 'none', layer: 7, from: 1, to: 1 },
        { plugin: 'x', action: 'set' },
        'junk',
        null,
      ]),
    );
    assert.deepEqual(
      rows.map((r) => [r.plugin, r.resource, r.action, r.reason, r.layer]),
      [
        ['hostname', 'static', 'set', undefined, undefined],
        ['x', 'y', 'none', 'pinned', undefined],
        ['h', 'pretty', 'none', undefined, 'node:n1'],
        ['h', 'static', 'none', undefined, undefined],
      ],
    );
    assert.deepEqual(model.parsePlan('not json'), []);
    assert.deepEqual(model.parsePlan('{"plugin":"x"}'), []);
  });

  it('shows a change as the fields that differ', () => {
    assert.equal(
      model.formatChange(
        { active_state: 'inactive', enabled: true },
        { active_state: 'active', enabled: true },
      ),
      'active_state: inactive → active',
    );
    assert.equal(model.formatChange(null, '2.10-3'), '— → 2.10-3');
    assert.equal(model.formatChange(false, true), 'false → true');
  });

  it('reads a job Result and the ledger defensively', () => {
    const result = model.parseResult(
      JSON.stringify({
        generation: 3,
        summary: { changed: 1, unchanged: 2, failed: 1 },
        resources: [
          {
            plugin: 'systemd',
            resource: 'a.service',
            outcome: 'failed',
            error: 'boom',
            failure: 'retryable',
          },
          {
            plugin: 'packagekit',
            resource: 'nosuch',
            outcome: 'failed',
            error: 'no package',
            failure: 'terminal',
          },
          // No kind: retryable, as the plugin contract says.
          { plugin: 'locale', resource: '', outcome: 'failed', error: 'gone' },
          { plugin: 'hostname', resource: 'static', outcome: 'changed' },
        ],
      }),
    );
    assert.deepEqual(result?.summary, { changed: 1, unchanged: 2, failed: 1 });
    assert.deepEqual(result?.failures, [
      { plugin: 'systemd', resource: 'a.service', error: 'boom', failure: 'retryable' },
      { plugin: 'packagekit', resource: 'nosuch', error: 'no package', failure: 'terminal' },
      { plugin: 'locale', resource: '', error: 'gone', failure: 'retryable' },
    ]);
    assert.equal(model.parseResult(''), undefined);
    assert.equal(model.parseResult('{"summary":5}'), undefined);

    const history = model.parseHistory(
      JSON.stringify([
        { seq: 1, job: 1, results: [{ outcome: 'changed' }, { outcome: 'failed' }] },
        { seq: 2, job: 2, results: 'junk' },
        7,
      ]),
    );
    assert.deepEqual(
      history.map((r) => [r.job, r.summary.changed, r.summary.failed]),
      [
        [2, 0, 0],
        [1, 1, 1],
      ],
    );

    // The ledger's record of a checkpoint being armed, as the daemon writes it.
    const armed = checkpointEntryOf(
      {
        id: 2,
        state: 'pending',
        deadline: Date.parse('2026-11-30T21:43:01.000Z'),
        timeoutMs: 60_000,
        createdAt: '2026-11-30T21:41:56.000Z',
        requestedBy: { sender: ':1.9', uid: 0 },
        previous: { document: { version: 1, plugins: {} }, generation: 1 },
        document: { version: 1, plugins: {} },
        snapshot: [],
        failed: [],
      },
      'armed',
      { sender: 'op-dbus', uid: 0 },
      7,
    );
    const [record] = model.parseHistory(JSON.stringify([armed]));
    assert.deepEqual(
      [record?.job, record?.kind, record?.state, record?.checkpoint],
      [7, 'checkpoint', 'armed', { id: 2, deadline: '2026-11-30T21:43:01.000Z' }],
    );
    assert.equal(model.parseHistory(JSON.stringify([{ job: 1 }]))[0]?.checkpoint, undefined);
  });

  it("words VerifyHistory's report, including a broken chain and a torn tail", () => {
    assert.deepEqual(model.describeVerification('{"ok":true,"records":3}'), {
      ok: true,
      text: 'The hash chain of all 3 records verifies.',
    });
    const broken = model.describeVerification(
      JSON.stringify({
        ok: false,
        records: 3,
        firstBad: { line: 2, reason: 'edited' },
        tornTail: { line: 4, bytes: 17 },
      }),
    );
    assert.equal(broken.ok, false);
    assert.match(broken.text, /breaks at line 2: edited\..*17 bytes at line 4/);
    assert.equal(model.describeVerification('nonsense').ok, false);
  });

  it('orders conditions as the daemon documents them and reads paths and times', () => {
    const types = model
      .parseConditions(
        JSON.stringify({
          Drifted: { status: 'False' },
          Extra: { status: 'True' },
          Ready: { status: 'True' },
          Degraded: 'junk',
        }),
      )
      .map((c) => c.type);
    assert.deepEqual(types, ['Ready', 'Drifted', 'Extra']);
    assert.equal(model.jobIdFromPath('/org/opdbus/StateManager/job/12'), 12);
    assert.equal(model.jobIdFromPath('/org/opdbus/StateManager'), undefined);
    assert.equal(model.dateFromUsec(0), undefined);
    assert.equal(model.dateFromUsec(1_700_000_000_000_000)?.getTime(), 1_700_000_000_000);
  });
});
