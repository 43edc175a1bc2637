/** Small builders for desired-state documents used across tests. */

export type Ensure = 'installed' | 'removed' | 'latest';

export function packagesDocument(
  packages: Record<string, Ensure | { ensure: Ensure; version?: string }>,
): string {
  const specs = Object.fromEntries(
    Object.entries(packages).map(([name, spec]) => [
      name,
      typeof spec === 'string' ? { ensure: spec } : spec,
    ]),
  );
  return JSON.stringify({ version: 1, plugins: { packagekit: { packages: specs } } });
}
