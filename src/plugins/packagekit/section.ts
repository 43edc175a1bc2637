import type { PlannedChange } from '../../engine/plugin.js';
import { planPackages, type ObservedPackages, type PackageChange } from './plan.js';
import type { ObservedRepositories } from './repositories/observe.js';
import { planRepositories, type RepositoryChange } from './repositories/plan.js';
import { REFRESHING_ACTIONS } from './repositories/refresh-outcomes.js';
import { repositoryNameOf, repositoryResource } from './repositories/resource-name.js';
import type { PackageKitSection } from './schema.js';

/** What the packagekit plugin reads before planning. */
export interface ObservedSection {
  packages: ObservedPackages;
  /** undefined when the section names no repository (nothing of apt's sources was read). */
  repositories: ObservedRepositories | undefined;
}

export type SectionChange = RepositoryChange | PackageChange;

export function isRepositoryChange(change: PlannedChange): change is RepositoryChange {
  return repositoryNameOf(change.resource) !== undefined;
}

/** Whether a plan makes the apply refresh the package lists. */
export function plansRefresh(changes: readonly PlannedChange[]): boolean {
  return changes.some(
    (change) => isRepositoryChange(change) && REFRESHING_ACTIONS.has(change.action),
  );
}

/**
 * Pure: repositories first (in the document's order), then packages, as the
 * apply takes them. A package no repository offers yet is still planned
 * `unresolvable`, but when the same apply refreshes the package lists its
 * reason says it will be looked for again after the refresh.
 */
export function planSection(
  desired: PackageKitSection,
  observed: ObservedSection,
): SectionChange[] {
  const repositories = observed.repositories
    ? planRepositories(
        desired.repositories ?? {},
        observed.repositories.sources,
        observed.repositories.listsMissing,
      )
    : [];
  const refreshes = plansRefresh(repositories);
  const packages = planPackages(desired, observed.packages).map((change) =>
    refreshes && change.action === 'unresolvable'
      ? {
          ...change,
          reason: `${change.reason ?? 'not found'}; looked for again after this apply refreshes the package lists`,
        }
      : change,
  );
  return [...repositories, ...packages];
}

/** The part of the section that covers only `resources` (package names and repository:NAME). */
export function narrowSection(
  desired: PackageKitSection,
  resources: readonly string[],
): PackageKitSection {
  const wanted = new Set(resources);
  const narrowed: PackageKitSection = {
    packages: Object.fromEntries(
      Object.entries(desired.packages ?? {}).filter(([name]) => wanted.has(name)),
    ),
  };
  const repositories = Object.entries(desired.repositories ?? {}).filter(([name]) =>
    wanted.has(repositoryResource(name)),
  );
  if (repositories.length > 0) narrowed.repositories = Object.fromEntries(repositories);
  return narrowed;
}

/** The resources a section names, as plans name them: packages by name, then repository:NAME. */
export function sectionResources(section: PackageKitSection): string[] {
  return [
    ...Object.keys(section.packages ?? {}),
    ...Object.keys(section.repositories ?? {}).map(repositoryResource),
  ];
}
