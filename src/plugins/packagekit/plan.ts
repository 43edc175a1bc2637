import type { PlannedChange } from '../../engine/plugin.js';
import { Info } from './enums.js';
import type { PkPackage } from './transaction-error.js';
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

export type PackageAction =
  'none' | 'install' | 'remove' | 'upgrade' | 'change-version' | 'unresolvable';

/** A package as Plan shows it: installed at a version, or null for not installed. */
export interface PackageView {
  ensure: 'installed';
  version: string;
}

/** A planned change carrying the package id to act on (undefined for none/unresolvable). */
export interface PackageChange extends PlannedChange {
  action: PackageAction;
  from: PackageView | null;
  to: PackageView | null;
  packageId: string | undefined;
}

function view(pkg: PkPackage | undefined): PackageView | null {
  return pkg ? { ensure: 'installed', version: pkg.version } : null;
}

function change(
  name: string,
  action: Exclude<PackageAction, 'unresolvable'>,
  state: PackageState,
  target: PkPackage | undefined,
): PackageChange {
  return {
    resource: name,
    action,
    from: view(state.installed),
    to: action === 'remove' ? null : view(target ?? state.installed),
    packageId: action === 'remove' ? state.installed?.id : target?.id,
  };
}

/** No repository has what the document asks for: Plan says so, never a plain install. */
function unresolvable(name: string, state: PackageState, version?: string): PackageChange {
  const known = [...new Set(state.available.map((pkg) => pkg.version))];
  const reason =
    version === undefined
      ? `no package named '${name}' in any repository PackageKit knows`
      : `no version ${JSON.stringify(version)} of '${name}' in any repository` +
        (known.length > 0 ? ` (available: ${known.join(', ')})` : '');
  return {
    resource: name,
    action: 'unresolvable',
    from: view(state.installed),
    to: version === undefined ? null : { ensure: 'installed', version },
    reason,
    packageId: undefined,
  };
}

function planInstalled(name: string, spec: PackageSpec, state: PackageState): PackageChange {
  const { installed, available } = state;
  if (spec.version === undefined) {
    if (installed) return change(name, 'none', state, installed);
    const candidate = available[0];
    return candidate ? change(name, 'install', state, candidate) : unresolvable(name, state);
  }
  if (installed?.version === spec.version) return change(name, 'none', state, installed);
  const pinned = available.find((pkg) => pkg.version === spec.version);
  if (!pinned) return unresolvable(name, state, spec.version);
  return change(name, installed ? 'change-version' : 'install', state, pinned);
}

function planLatest(name: string, state: PackageState): PackageChange {
  const { installed, available } = state;
  const newer = available.find((pkg) => pkg.version !== installed?.version);
  if (installed && !newer) return change(name, 'none', state, installed);
  if (!newer) return unresolvable(name, state);
  return change(name, installed ? 'upgrade' : 'install', state, newer);
}

function planOne(name: string, spec: PackageSpec, state: PackageState): PackageChange {
  switch (spec.ensure) {
    case 'installed':
      return planInstalled(name, spec, state);
    case 'latest':
      return planLatest(name, state);
    case 'removed':
      return change(name, state.installed ? 'remove' : 'none', state, undefined);
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
