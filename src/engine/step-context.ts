import type { Logger } from 'pino';
import { ErrorName, OpdbusError } from '../errors.js';
import type { EnginePlugin, PluginContext, ProgressReport, WorkPriority } from './plugin.js';

/** Engine defaults for a plugin's steps; a definition may set its own (`deadlines`). */
export const DEFAULT_DEADLINES = { readMs: 60_000, applyMs: 30 * 60_000 };

/** How long an apply may go on after its deadline fired before the engine stops waiting. */
const APPLY_GRACE_MS = 30_000;

export interface StepOptions {
  log: Logger;
  priority: WorkPriority;
  /** The job's or the daemon's signal: cancel or stop. */
  signal: AbortSignal;
  progress?: (report: ProgressReport) => void;
}

/**
 * Runs one step of one plugin (a read, or an apply) under the engine's deadline:
 * the plugin gets a context whose signal fires on cancel, stop or the deadline,
 * and the engine stops waiting for a plugin that ignores it (at once for a read;
 * after a grace period for an apply, which may be finishing a transaction).
 */
export async function runStep<T>(
  plugin: EnginePlugin,
  step: 'read' | 'apply',
  options: StepOptions,
  body: (ctx: PluginContext) => Promise<T>,
): Promise<T> {
  const limitMs = step === 'read' ? plugin.deadlines.readMs : plugin.deadlines.applyMs;
  const controller = new AbortController();
  const deadline = Date.now() + limitMs;
  const onOuterAbort = (): void => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal.aborted) onOuterAbort();
  const timer = setTimeout(() => {
    controller.abort(
      new OpdbusError(
        ErrorName.Timeout,
        `the ${plugin.name} plugin's ${step} did not finish within ${limitMs / 1000} s`,
      ),
    );
  }, limitMs);
  const ctx: PluginContext = {
    log: options.log.child({ plugin: plugin.name }),
    signal: controller.signal,
    deadline,
    priority: options.priority,
    progress: options.progress ?? (() => undefined),
  };
  try {
    return await settleOrGiveUp(
      body(ctx),
      controller.signal,
      step === 'read' ? 0 : APPLY_GRACE_MS,
      ctx.log,
    );
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onOuterAbort);
  }
}

/** The work's own outcome, unless the signal fired and the work did not end within `graceMs`. */
function settleOrGiveUp<T>(
  work: Promise<T>,
  signal: AbortSignal,
  graceMs: number,
  log: Logger,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      timer = setTimeout(() => {
        log.error({ graceMs }, 'plugin did not stop after its deadline; no longer waiting for it');
        reject(signal.reason as Error);
      }, graceMs);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    void work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}
