/**
 * How repositories appear among the packagekit plugin's resources (in Plan,
 * job results, DriftDetected): `repository:NAME`. Package names never contain
 * a colon (schema.PACKAGE_NAME_PATTERN), so the two can never collide, and a
 * document may name a package and a repository alike (`pve`).
 */
export const REPOSITORY_RESOURCE_PREFIX = 'repository:';

export function repositoryResource(name: string): string {
  return `${REPOSITORY_RESOURCE_PREFIX}${name}`;
}

/** The repository name of a resource, undefined for a package's resource. */
export function repositoryNameOf(resource: string): string | undefined {
  return resource.startsWith(REPOSITORY_RESOURCE_PREFIX)
    ? resource.slice(REPOSITORY_RESOURCE_PREFIX.length)
    : undefined;
}
