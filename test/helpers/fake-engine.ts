import { buildDocumentSchema, type DesiredDocument } from '../../src/document/document.js';
import { DocumentValidator } from '../../src/document/validator.js';
import { StateManager } from '../../src/engine/state-manager.js';
import type { Job } from '../../src/engine/jobs/job.js';
import type { CheckpointStore } from '../../src/engine/checkpoints/checkpoint-file.js';
import { FakePlugin, FakeSection, fakeEnginePlugin } from './fake-plugin.js';
import { silentLog } from './plugin-host.js';

export const ROOT = { sender: ':1.1', uid: 0 };

/** A StateManager over fake plugins, with an in-memory store. */
export function fakeEngine(
  names: string[],
  checkpointStore?: CheckpointStore,
): {
  engine: StateManager;
  plugins: Record<string, FakePlugin>;
  saved: DesiredDocument[];
} {
  const plugins = Object.fromEntries(names.map((name) => [name, new FakePlugin(name)]));
  const saved: DesiredDocument[] = [];
  const engine = new StateManager({
    plugins: Object.values(plugins).map((plugin) => fakeEnginePlugin(plugin)),
    validator: new DocumentValidator(
      buildDocumentSchema(names.map((name) => ({ name, schema: FakeSection }))),
    ),
    store: {
      save: (document) => {
        saved.push(document);
        return Promise.resolve();
      },
    },
    ...(checkpointStore ? { checkpointStore } : {}),
    log: silentLog,
    jobRetentionMs: 60_000,
    maxRetainedJobs: 50,
  });
  return { engine, plugins, saved };
}

/** Resolves when the job has finished. */
export function finished(engine: StateManager, job: Job): Promise<Job> {
  if (job.finished) return Promise.resolve(job);
  return new Promise((resolve) => {
    const listener = (done: Job): void => {
      if (done !== job) return;
      engine.events.off('job-removed', listener);
      resolve(job);
    };
    engine.events.on('job-removed', listener);
  });
}

export function doc(sections: Record<string, Record<string, string>>): string {
  return JSON.stringify({
    version: 1,
    plugins: Object.fromEntries(Object.entries(sections).map(([name, items]) => [name, { items }])),
  });
}
