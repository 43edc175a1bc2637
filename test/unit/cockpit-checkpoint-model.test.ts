import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

// The confirm/rollback part of the Cockpit page (cockpit/op-dbus/js/checkpoint-model.js):
// what a checkpoint object's properties, as cockpit.dbus hands them to the page
// (a `t` arrives as a number), mean to a person.
interface Checkpoint {
  id?: number;
  state: string;
  phase: string;
  deadline?: Date;
  provisional: boolean;
  jobId?: number;
  rollbackJobId?: number;
  snapshot: { plugin: string; restore: string }[];
  failed: { plugin: string; resource: string; error: string }[];
}
interface CheckpointModel {
  readCheckpoint(
    properties: Record<string, unknown>,
    jobState: (id: number) => string | undefined,
  ): Checkpoint;
  parseSnapshot(text: unknown): { plugin: string; restore: string }[];
  parseFailed(text: unknown): { plugin: string; resource: string; error: string }[];
  countdownText(deadline: Date | undefined, now: Date): string;
  restoreSummary(snapshot: { plugin: string; restore: string }[]): string;
  describeOutcome(outcome: string): string;
}

const MODEL_URL = new URL('../../cockpit/op-dbus/js/checkpoint-model.js', import.meta.url).href;
const model = (await import(MODEL_URL)) as CheckpointModel;

const DEADLINE_MS = 1_795_633_992_000;
/** Properties as src/dbus/checkpoint-objects.ts serves them for a pending checkpoint. */
function pending(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Id: 4,
    State: 'pending',
    Deadline: DEADLINE_MS * 1000,
    Job: '/org/opdbus/StateManager/job/9',
    RollbackJob: '/',
    Snapshot: JSON.stringify([
      { plugin: 'hostname', restore: 'exact', section: { static: 'before' } },
      { plugin: 'packagekit', restore: 'approximate', section: { packages: {} } },
    ]),
    Failed: '[]',
    ...overrides,
  };
}

describe('the Cockpit page checkpoint model', () => {
  it('a deadline is provisional exactly while the probationary job has not ended', () => {
    const states: Record<number, string> = { 9: 'running' };
    const running = model.readCheckpoint(pending(), (id) => states[id]);
    assert.equal(running.provisional, true);
    assert.equal(running.phase, 'pending');
    assert.equal(running.jobId, 9);
    assert.equal(running.deadline?.getTime(), DEADLINE_MS);
    for (const state of ['done', 'failed', 'cancelled']) {
      states[9] = state;
      assert.equal(model.readCheckpoint(pending(), (id) => states[id]).provisional, false, state);
    }
    states[9] = 'queued';
    assert.equal(model.readCheckpoint(pending(), (id) => states[id]).provisional, true);
    // A job the page does not know (the daemon restarted: Job is '/') is not waited for.
    assert.equal(model.readCheckpoint(pending({ Job: '/' }), () => 'running').provisional, false);
    assert.equal(model.readCheckpoint(pending(), () => undefined).provisional, false);
  });

  it('tells pending, rolling back and a failed rollback apart', () => {
    const rolling = model.readCheckpoint(
      pending({ RollbackJob: '/org/opdbus/StateManager/job/11' }),
      () => 'running',
    );
    assert.deepEqual(
      [rolling.phase, rolling.rollbackJobId, rolling.provisional],
      ['rolling-back', 11, false],
    );
    const failed = model.readCheckpoint(
      pending({
        State: 'rollback-failed',
        Failed: JSON.stringify([
          { plugin: 'packagekit', resource: 'hello', error: 'no version 2.10-3' },
          'junk',
          { plugin: 'systemd' },
        ]),
      }),
      () => 'done',
    );
    assert.equal(failed.phase, 'rollback-failed');
    assert.deepEqual(failed.failed, [
      { plugin: 'packagekit', resource: 'hello', error: 'no version 2.10-3' },
      { plugin: 'systemd', resource: '', error: 'failed' },
    ]);
  });

  it("reads the snapshot's restore exactness and drops what it cannot read", () => {
    const snapshot = model.parseSnapshot(
      JSON.stringify([
        { plugin: 'hostname', restore: 'exact' },
        { plugin: 'locale', restore: 'perfect' },
        { restore: 'exact' },
        7,
      ]),
    );
    assert.deepEqual(snapshot, [
      { plugin: 'hostname', restore: 'exact' },
      { plugin: 'locale', restore: 'unknown' },
    ]);
    assert.equal(model.restoreSummary(snapshot), 'hostname: exact, locale: unknown');
    assert.deepEqual(model.parseSnapshot('not json'), []);
    assert.deepEqual(model.parseSnapshot('{"plugin":"x"}'), []);
    assert.deepEqual(model.parseFailed(undefined), []);
    const junk = model.readCheckpoint({ State: 5, Deadline: 'soon', Snapshot: 3 }, () => 'done');
    assert.deepEqual(
      [junk.id, junk.state, junk.deadline, junk.snapshot],
      [undefined, '', undefined, []],
    );
  });

  it('counts down in seconds, then minutes, and says when the deadline has passed', () => {
    const deadline = new Date(DEADLINE_MS);
    const before = (ms: number): Date => new Date(DEADLINE_MS - ms);
    assert.equal(model.countdownText(deadline, before(26_100)), '27 s left');
    assert.equal(model.countdownText(deadline, before(245_000)), '4 min 05 s left');
    assert.equal(model.countdownText(deadline, before(0)), 'deadline passed');
    assert.equal(model.countdownText(deadline, new Date(DEADLINE_MS + 5000)), 'deadline passed');
    assert.equal(model.countdownText(undefined, before(1)), '');
    assert.match(model.describeOutcome('rolled-back'), /previous document is desired again/);
    assert.match(model.describeOutcome('confirmed'), /final/);
  });
});
