import { SchemaChecker } from '../../../document/validator.js';
import { RepositorySpec, type RepositoriesMap } from './schema.js';
import { parseManagedFile } from './sources-file.js';
import type { SourcesState } from './sources-state.js';

let checker: SchemaChecker | undefined;

/**
 * The repositories op-dbus manages, as a `repositories` map that Apply accepts:
 * every op-dbus-*.sources file read back. A file edited into something the
 * schema refuses (or that no longer parses) is left out and named in `skipped`,
 * so Query never hands out a document Apply would reject. Others' repositories
 * are not listed: applying them would make op-dbus write a duplicate.
 */
export function queryRepositories(state: SourcesState): {
  repositories: RepositoriesMap;
  skipped: { name: string; problem: string }[];
} {
  checker ??= new SchemaChecker(RepositorySpec);
  const repositories: RepositoriesMap = {};
  const skipped: { name: string; problem: string }[] = [];
  for (const [name, file] of [...state.managed].sort(([a], [b]) => a.localeCompare(b))) {
    const parsed = parseManagedFile(file.content);
    if (!parsed.ok) {
      skipped.push({ name, problem: parsed.problem });
      continue;
    }
    const { types, uris, suites, components, signedBy, enabled, architectures } = parsed.repository;
    const spec: RepositorySpec = { ensure: 'present', types, uris, suites };
    if (components.length > 0) spec.components = components;
    spec.signed_by = signedBy;
    spec.enabled = enabled;
    if (architectures) spec.architectures = architectures;
    const problems = checker.problems(spec);
    if (problems.length > 0) skipped.push({ name, problem: problems.join('; ') });
    else repositories[name] = spec;
  }
  return { repositories, skipped };
}
