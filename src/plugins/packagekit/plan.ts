import type { PlannedChange } from '../../engine/plugin.js';
import { Info } from './enums.js';
import type { PkPackage } from './packagekit-client.js';
import type { PackageKitSection, PackageSpec } from './schema.js';

/** What PackageKit said about one package name: the installed build and the installable ones. */
export interface PackageState {
  installed: PkPackage | undefined;
  available: PkPackage[];
}

export type ObservedPackages = Map<string, PackageState>;

/** Groups Resolve's Package signals by name. Installed is told by info, not by the id's data field. */
export function groupByName(
  names: readonly string[],
  packages: readonly PkPackage[],
): ObservedPackages {
  const observed: ObservedPackages = new Map(
    names.map((name) => [name, { installed: undefined, available: [] }]),
  );
  for (const pkg of packages) {
    const state = observed.get(pkg.name);
    if (!state) continue;
    if (pkg.info === Info.installed) state.installed = pkg;
    else state.available.push(pkg);
  }
  return observed;
}

export type PackageAction = 'none' | 'install' | 'remove' | 'upgrade' | 'change-version';

/** A planned change carrying the package id to act on (undefined when none can be found). */
export interface PackageChange extends PlannedChange {
  action: PackageAction;
  packageId: string | undefined;
}

function change(
  name: string,
  action: PackageAction,
  state: PackageState,
  target: PkPackage | undefined,
  to: string | null,
): PackageChange {
  return {
    resource: name,
    action,
    from: state.installed ? state.installed.version : null,
    to,
    packageId: action === 'remove' ? state.installed?.id : target?.id,
  };
}

function planInstalled(name: string, spec: PackageSpec, state: PackageState): PackageChange {
  const { installed, available } = state;
  if (spec.version === undefined) {
    if (installed) return change(name, 'none', state, installed, installed.version);
    const candidate = available[0];
    return change(name, 'install', state, candidate, candidate?.version ?? null);
  }
  if (installed?.version === spec.version)
    return change(name, 'none', state, installed, installed.version);
  const pinned = available.find((pkg) => pkg.version === spec.version);
  return change(name, installed ? 'change-version' : 'install', state, pinned, spec.version);
}

function planLatest(name: string, state: PackageState): PackageChange {
  const { installed, available } = state;
  const newer = available.find((pkg) => pkg.version !== installed?.version);
  if (installed && !newer) return change(name, 'none', state, installed, installed.version);
  return change(name, installed ? 'upgrade' : 'install', state, newer, newer?.version ?? null);
}

function planOne(name: string, spec: PackageSpec, state: PackageState): PackageChange {
  switch (spec.ensure) {
    case 'installed':
      return planInstalled(name, spec, state);
    case 'latest':
      return planLatest(name, state);
    case 'removed':
      return state.installed
        ? change(name, 'remove', state, undefined, null)
        : change(name, 'none', state, undefined, null);
  }
}

/** Pure: one change per package in the section, in the section's order. */
export function planPackages(
  desired: PackageKitSection,
  observed: ObservedPackages,
): PackageChange[] {
  return Object.entries(desired.packages).map(([name, spec]) =>
    planOne(name, spec, observed.get(name) ?? { installed: undefined, available: [] }),
  );
}
