import type { Capture } from '../../engine/plugin.js';
import type { ObservedPackages } from './plan.js';
import type { PackageKitSection, PackageSpec } from './schema.js';

/**
 * The packages the section names, as they are now: what a rollback applies.
 * Approximate by nature: a package installed on probation is removed again
 * with the dependencies it pulled in (autoremove), one that was removed comes
 * back only if its version is still offered, and maintainer scripts' side
 * effects are never undone.
 */
export function capturePackages(
  desired: PackageKitSection,
  observed: ObservedPackages,
): Capture<PackageKitSection> {
  const packages: Record<string, PackageSpec> = {};
  for (const name of Object.keys(desired.packages)) {
    const installed = observed.get(name)?.installed;
    packages[name] = installed
      ? { ensure: 'installed', version: installed.version }
      : { ensure: 'removed', autoremove: true };
  }
  return { section: { packages }, restore: 'approximate' };
}
