import { execFileSync } from 'node:child_process';
import type { SystemdUser } from '../../test/harness/systemd-user.js';

/** Installed packages, as dpkg says, without architecture-qualified names. */
export function installedPackages(count: number): string[] {
  const lines = execFileSync('dpkg-query', ['-W', '-f=${Status}\t${Package}\n'], {
    encoding: 'utf8',
  }).split('\n');
  const names = lines
    .filter((line) => line.startsWith('install ok installed\t'))
    .map((line) => line.split('\t')[1] ?? '')
    .filter((name) => name !== '' && !name.includes(':'))
    .sort();
  if (names.length < count) throw new Error(`only ${names.length} packages installed`);
  // Spread over the alphabet rather than the first `count` (lib*-heavy) names.
  const step = names.length / count;
  return Array.from({ length: count }, (_, i) => names[Math.floor(i * step)] as string);
}

export const UNIT_COUNT = 20;

export function unitNames(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `bench-unit-${String(i + 1).padStart(2, '0')}.service`,
  );
}

/** Writes long-running, enableable units into the user manager and reloads it. */
export async function writeUnits(systemd: SystemdUser, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await systemd.writeUnit(
      name,
      '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=default.target\n',
    );
  }
  await systemd.systemctl('daemon-reload');
}

export interface Workload {
  label: string;
  packages: string[];
  units: string[];
}

export function opdbusDocument(workload: Workload): string {
  const plugins: Record<string, unknown> = {};
  if (workload.packages.length > 0)
    plugins.packagekit = {
      packages: Object.fromEntries(workload.packages.map((n) => [n, { ensure: 'installed' }])),
    };
  if (workload.units.length > 0)
    plugins.systemd = {
      units: Object.fromEntries(
        workload.units.map((n) => [n, { enabled: true, active_state: 'active' }]),
      ),
    };
  return JSON.stringify({ version: 1, plugins });
}
