import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WorkPriority } from '../../engine/plugin.js';
import { dbusErrorText, isDBusError } from '../../dbus/bus.js';
import {
  boundedText,
  ErrorName,
  OpdbusError,
  PluginFailure,
  retryableFailure,
  terminalFailure,
} from '../../errors.js';
import type { ActivationWaiter } from './activation.js';
import { NO_OBJECT, type NmCallOptions, type NmClient } from './nm-client.js';
import { connectionSettings } from './nm-settings.js';
import { DeviceState, type Persistence, type Typed } from './nm-types.js';
import type { RemoveOp, WriteOp } from './work.js';

/** Everything the steps of one apply share. */
export interface StepContext {
  client: NmClient;
  activations: ActivationWaiter;
  persistence: Persistence;
  activationTimeoutMs: number;
  signal: AbortSignal;
  priority: WorkPriority;
  log: Logger;
}

/** A step that failed, with the resources it was for. */
export class StepFailure extends Error {
  constructor(
    readonly resources: readonly string[],
    readonly failure: PluginFailure,
  ) {
    super(failure.message);
    this.name = 'StepFailure';
  }
}

/**
 * What a failed call means for retrying: NetworkManager's own refusals
 * (invalid settings, unknown device, ...) are terminal; a timeout or a missing
 * service is retryable; a failure already classified keeps its kind.
 */
export function classify(err: unknown, what: string): PluginFailure {
  if (err instanceof PluginFailure) return err;
  const text = `${what}: ${boundedText(dbusErrorText(err))}`;
  if (err instanceof OpdbusError && err.dbusName === ErrorName.Timeout)
    return retryableFailure(text);
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && type.startsWith('org.freedesktop.NetworkManager')) {
    return terminalFailure(text);
  }
  return retryableFailure(text);
}

/** Runs one call; its failure becomes a StepFailure for `resources`, unless the operation was aborted. */
async function step<T>(
  ctx: StepContext,
  resources: readonly string[],
  what: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof StepFailure || ctx.signal.aborted) throw err;
    throw new StepFailure(resources, classify(err, what));
  }
}

const gone = (err: unknown): boolean =>
  isDBusError(err, 'org.freedesktop.DBus.Error.UnknownObject') ||
  isDBusError(err, 'org.freedesktop.DBus.Error.UnknownMethod');

export async function runRemove(op: RemoveOp, ctx: StepContext): Promise<void> {
  const options: NmCallOptions = { signal: ctx.signal, priority: ctx.priority };
  for (const profile of op.profiles) {
    await step(ctx, op.resources, `deleting profile ${profile.view.id}`, () =>
      ctx.client.deleteConnection(profile.path, options).catch((err: unknown) => {
        if (!gone(err)) throw err;
      }),
    );
  }
  const device = op.device;
  if (op.deleteDevice && device?.real) {
    // A device NetworkManager created goes with its profile (it then answers
    // NotSoftware: "not realized"); one made by someone else stays until deleted.
    // Verification catches a link that is still there.
    await step(ctx, op.resources, `deleting device ${op.name}`, () =>
      ctx.client.deleteDevice(device.path, options).catch((err: unknown) => {
        if (!gone(err) && !isDBusError(err, 'org.freedesktop.NetworkManager.Device.NotSoftware')) {
          throw err;
        }
      }),
    );
  }
}

/** Adds or updates the profile; returns its path. */
export async function runWrite(op: WriteOp, ctx: StepContext): Promise<string> {
  const settings = connectionSettings({
    iface: op.iface,
    base: op.profile?.typed,
    uuid: op.profile?.view.uuid || randomUUID(),
    ...(op.controller !== undefined ? { controller: op.controller } : {}),
    ...(op.routes !== undefined ? { routes: op.routes } : {}),
  });
  const options: NmCallOptions = { signal: ctx.signal, priority: ctx.priority };
  const profile = op.profile;
  if (profile) {
    await step(ctx, op.resources, `updating profile of ${op.name}`, () =>
      ctx.client.updateConnection(profile.path, settings, ctx.persistence, options),
    );
    return profile.path;
  }
  return step(ctx, op.resources, `adding profile for ${op.name}`, () =>
    ctx.client.addConnection(settings, ctx.persistence, options),
  );
}

/**
 * Brings the interface to its state. An active device takes the new profile
 * with Reapply (no link bounce); where NetworkManager cannot reapply the change
 * (e.g. a new controller), the profile is activated again. Returns the active
 * connection to wait for, if any.
 */
export async function runState(
  op: WriteOp,
  profilePath: string,
  ctx: StepContext,
): Promise<string | undefined> {
  const options: NmCallOptions = { signal: ctx.signal, priority: ctx.priority };
  const device = op.device;
  const activeHere =
    device !== undefined &&
    device.activeProfile === profilePath &&
    device.activeConnection !== NO_OBJECT;
  if (op.state === 'down') {
    if (activeHere) {
      await step(ctx, op.resources, `deactivating ${op.name}`, () =>
        ctx.client.deactivateConnection(device.activeConnection, options),
      );
    }
    return undefined;
  }
  if (activeHere && device.state === DeviceState.Activated) {
    try {
      await ctx.client.reapply(device.path, options);
      return undefined;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.log.debug({ iface: op.name, err: dbusErrorText(err) }, 'reapply refused; activating');
    }
  }
  return step(ctx, op.resources, `activating ${op.name}`, () =>
    ctx.client.activateConnection(profilePath, device?.real ? device.path : NO_OBJECT, options),
  );
}

export async function waitActivated(op: WriteOp, active: string, ctx: StepContext): Promise<void> {
  await step(ctx, op.resources, `activating ${op.name}`, () =>
    ctx.activations.wait(active, ctx.activationTimeoutMs, ctx.signal),
  );
}

/** NetworkManager's global DNS with nmstate's server/search put in; other keys kept. */
export function globalDnsWith(
  current: Record<string, unknown>,
  server: readonly string[] | undefined,
  search: readonly string[] | undefined,
): Record<string, Typed> {
  const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  const domains = (current.domains ?? {}) as Record<string, Record<string, unknown>>;
  const typedDomains: Record<string, Typed> = {};
  for (const [domain, config] of Object.entries(domains)) {
    typedDomains[domain] = {
      signature: 'a{sv}',
      value: {
        servers: { signature: 'as', value: strings(config.servers) },
        ...(config.options ? { options: { signature: 'as', value: strings(config.options) } } : {}),
      },
    };
  }
  const servers = server ?? strings(domains['*']?.servers);
  if (servers.length > 0) {
    typedDomains['*'] = {
      signature: 'a{sv}',
      value: { servers: { signature: 'as', value: [...servers] } },
    };
  } else {
    delete typedDomains['*'];
  }
  const searches = search ?? strings(current.searches);
  const result: Record<string, Typed> = {};
  if (searches.length > 0) result.searches = { signature: 'as', value: [...searches] };
  if (current.options !== undefined)
    result.options = { signature: 'as', value: strings(current.options) };
  if (Object.keys(typedDomains).length > 0)
    result.domains = { signature: 'a{sv}', value: typedDomains };
  return result;
}
