import type { Capture } from '../../engine/plugin.js';
import { queryRepositories } from './repositories/query.js';
import type { RepositoriesMap } from './repositories/schema.js';
import type { PackageKitSection, PackageSpec } from './schema.js';
import type { ObservedSection } from './section.js';

/**
 * The repositories and packages the section names, as they are now: what a
 * rollback applies. A repository comes back as op-dbus's file says (or absent
 * when there was none); one whose file no longer parses is left out, so a
 * rollback does not touch it. Approximate by nature: a package installed on
 * probation is removed again with the dependencies it pulled in (autoremove),
 * one that was removed comes back only if its version is still offered, and
 * maintainer scripts' side effects are never undone.
 */
export function captureSection(
  desired: PackageKitSection,
  observed: ObservedSection,
): Capture<PackageKitSection> {
  const packages: Record<string, PackageSpec> = {};
  for (const name of Object.keys(desired.packages ?? {})) {
    const installed = observed.packages.get(name)?.installed;
    packages[name] = installed
      ? { ensure: 'installed', version: installed.version }
      : { ensure: 'removed', autoremove: true };
  }
  const section: PackageKitSection = { packages };
  if (desired.repositories && observed.repositories) {
    const { repositories: written, skipped } = queryRepositories(observed.repositories.sources);
    const unreadable = new Set(skipped.map(({ name }) => name));
    const repositories: RepositoriesMap = {};
    for (const name of Object.keys(desired.repositories)) {
      if (unreadable.has(name)) continue;
      repositories[name] = written[name] ?? { ensure: 'absent' };
    }
    section.repositories = repositories;
  }
  return { section, restore: 'approximate' };
}
