import { Variant } from '../../dbus/bus.js';
import type { SettingsOut, Typed } from './nm-types.js';

/**
 * Between the plugin's typed values ({signature, value}) and dbus-next's
 * variants. dbus-next marshals a 'v' only from a Variant instance, nested ones
 * (inside aa{sv} and a{sv}) included, so every level is converted.
 */

type DBusVariant = InstanceType<typeof Variant>;

/** A typed value (and the typed dicts inside aa{sv} / a{sv}) as a dbus-next variant. */
export function toVariant(typed: Typed): DBusVariant {
  if (typed instanceof Variant) return typed;
  const nested = (dict: Record<string, Typed>) =>
    Object.fromEntries(Object.entries(dict).map(([key, value]) => [key, toVariant(value)]));
  if (typed.signature === 'aa{sv}') {
    return new Variant(typed.signature, (typed.value as Record<string, Typed>[]).map(nested));
  }
  if (typed.signature === 'a{sv}') {
    return new Variant(typed.signature, nested(typed.value as Record<string, Typed>));
  }
  return new Variant(typed.signature, typed.value);
}

export function toWire(settings: SettingsOut): Record<string, Record<string, DBusVariant>> {
  return Object.fromEntries(
    Object.entries(settings).map(([name, properties]) => [
      name,
      Object.fromEntries(Object.entries(properties).map(([key, typed]) => [key, toVariant(typed)])),
    ]),
  );
}

function isVariant(value: unknown): value is { signature: string; value: unknown } {
  return value instanceof Variant;
}

/** Unwraps variants recursively: what GetSettings returns, as plain values. */
export function unwrapDeep(value: unknown): unknown {
  if (isVariant(value)) return unwrapDeep(value.value);
  if (Array.isArray(value)) return value.map(unwrapDeep);
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, unwrapDeep(item)]));
  }
  return value;
}
