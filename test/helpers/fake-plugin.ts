import { Type } from '@sinclair/typebox';
import type {
  Capture,
  ChangeScope,
  EnginePlugin,
  PlannedChange,
  Plugin,
  PluginContext,
  ResourceOutcome,
} from '../../src/engine/plugin.js';
import { DEFAULT_DEADLINES } from '../../src/engine/step-context.js';
import { PluginFailure, type FailureKind } from '../../src/errors.js';
import { ChangeFeed } from '../../src/plugins/shared/change-feed.js';

/** A fake plugin's section: named string values. */
export const FakeSection = Type.Object(
  { items: Type.Record(Type.String(), Type.String()) },
  { additionalProperties: false },
);
export interface FakeSectionType {
  items: Record<string, string>;
}

/**
 * A plugin over an in-memory "machine" (a map of values), to test the engine's
 * own contract without any service. What goes wrong is scripted per item:
 * a refusal (terminal or retryable), a change that does not stick, a hang.
 */
export class FakePlugin implements Plugin<FakeSectionType, Map<string, string>> {
  readonly machine = new Map<string, string>();
  readonly changes = new ChangeFeed();
  readonly calls: string[] = [];
  readonly refuse = new Map<string, FailureKind>();
  readonly doesNotStick = new Set<string>();
  /** Throw this from observe (the service is gone). */
  observeFails: PluginFailure | undefined;
  /** observe never answers (a hung service); it does not watch its signal. */
  observeHangs = false;
  applyCount = 0;

  constructor(readonly name: string) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.changes.clear();
    return Promise.resolve();
  }

  async observe(desired: FakeSectionType, _ctx: PluginContext): Promise<Map<string, string>> {
    this.calls.push(`observe ${Object.keys(desired.items).join(',')}`);
    if (this.observeHangs) await new Promise(() => undefined);
    if (this.observeFails) throw this.observeFails;
    return new Map(Object.keys(desired.items).map((key) => [key, this.machine.get(key) ?? '']));
  }

  plan(desired: FakeSectionType, observed: Map<string, string>): PlannedChange[] {
    return Object.entries(desired.items).map(([resource, to]) => {
      const from = observed.get(resource) || null;
      return { resource, action: (from ?? '') === to ? 'none' : 'set', from, to };
    });
  }

  apply(
    changes: PlannedChange[],
    _desired: FakeSectionType,
    _observed: Map<string, string>,
    _ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    this.applyCount += 1;
    this.calls.push(`apply ${changes.map((c) => c.resource).join(',')}`);
    return Promise.resolve(
      changes.map(({ resource, action, to }) => {
        const refusal = this.refuse.get(resource);
        if (refusal) {
          return {
            resource,
            action,
            outcome: 'failed',
            error: `refused ${resource}`,
            failure: refusal,
          };
        }
        if (!this.doesNotStick.has(resource)) this.machine.set(resource, String(to));
        return { resource, action, outcome: 'changed' };
      }),
    );
  }

  query(_ctx: PluginContext): Promise<FakeSectionType> {
    if (this.observeFails) return Promise.reject(this.observeFails);
    return Promise.resolve({ items: Object.fromEntries(this.machine) });
  }

  /** Undefined to play a plugin that cannot capture (it cannot apply on probation). */
  capture?: (desired: FakeSectionType, observed: Map<string, string>) => Capture<FakeSectionType> =
    (desired, observed) => ({
      section: {
        items: Object.fromEntries(
          Object.keys(desired.items).map((k) => [k, observed.get(k) ?? '']),
        ),
      },
      restore: 'exact',
    });

  narrow(desired: FakeSectionType, resources: readonly string[]): FakeSectionType {
    return {
      items: Object.fromEntries(
        Object.entries(desired.items).filter(([k]) => resources.includes(k)),
      ),
    };
  }

  /** Someone changed the machine behind the daemon's back, and the service says so. */
  changeBehindTheBack(resource: string, value: string, scope: ChangeScope = [resource]): void {
    this.machine.set(resource, value);
    this.changes.publish(scope);
  }
}

export function fakeEnginePlugin(
  plugin: FakePlugin,
  deadlines: Partial<EnginePlugin['deadlines']> = {},
): EnginePlugin {
  return { name: plugin.name, instance: plugin, deadlines: { ...DEFAULT_DEADLINES, ...deadlines } };
}

export function fakeDocument(sections: Record<string, Record<string, string>>) {
  return {
    version: 1 as const,
    plugins: Object.fromEntries(Object.entries(sections).map(([name, items]) => [name, { items }])),
  };
}
