import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRepositories } from '../../../src/plugins/packagekit/repositories/plan.js';
import { queryRepositories } from '../../../src/plugins/packagekit/repositories/query.js';
import {
  repositoryOf,
  type RepositorySpec,
} from '../../../src/plugins/packagekit/repositories/schema.js';
import { renderRepository } from '../../../src/plugins/packagekit/repositories/sources-file.js';
import type { SourcesState } from '../../../src/plugins/packagekit/repositories/sources-state.js';
import { FIXTURE_KEY } from '../../helpers/repositories.js';

function stateOf(files: Record<string, string>): SourcesState {
  return {
    managed: new Map(
      Object.entries(files).map(([name, content]) => [
        name,
        { name, path: `/etc/apt/sources.list.d/op-dbus-${name}.sources`, content },
      ]),
    ),
    // Someone else's entry for another archive does not appear in the query.
    foreign: [
      {
        path: '/etc/apt/sources.list.d/debian.sources',
        line: 1,
        types: ['deb'],
        uris: ['http://deb.debian.org/debian'],
        suites: ['bookworm'],
      },
    ],
    keyrings: new Map(),
  };
}

function written(name: string, spec: RepositorySpec): string {
  const repository = repositoryOf(spec);
  assert.ok(repository);
  return renderRepository(name, repository);
}

const SPECS: Record<string, RepositorySpec> = {
  pve: {
    uris: ['http://download.proxmox.com/debian/pve'],
    suites: ['bookworm'],
    components: ['pve-no-subscription'],
    signed_by: FIXTURE_KEY,
  },
  k8s: {
    types: ['deb', 'deb-src'],
    uris: ['https://pkgs.k8s.io/core:/stable:/v1.30/deb/'],
    suites: ['/'],
    signed_by: '/etc/apt/keyrings/kubernetes.gpg',
    enabled: false,
    architectures: ['amd64'],
  },
};

describe('querying the repositories op-dbus manages', () => {
  it('gives a section that plans no change against the same machine', () => {
    const state = stateOf(
      Object.fromEntries(Object.entries(SPECS).map(([name, spec]) => [name, written(name, spec)])),
    );
    const { repositories, skipped } = queryRepositories(state);
    assert.deepEqual(skipped, []);
    assert.deepEqual(Object.keys(repositories), ['k8s', 'pve']);
    assert.deepEqual(
      planRepositories(repositories, state).map((change) => [change.resource, change.action]),
      [
        ['repository:k8s', 'none'],
        ['repository:pve', 'none'],
      ],
    );
    assert.equal(repositories.pve?.signed_by, FIXTURE_KEY);
  });

  it('leaves out (and names) a file that no longer parses or that the schema would refuse', () => {
    const ftp = written('pve', SPECS.pve as RepositorySpec).replace(
      'http://download.proxmox.com',
      'ftp://download.proxmox.com',
    );
    const { repositories, skipped } = queryRepositories(
      stateOf({ garbled: 'garbage\n', ftp, pve: written('pve', SPECS.pve as RepositorySpec) }),
    );
    assert.deepEqual(Object.keys(repositories), ['pve']);
    assert.deepEqual(
      skipped.map(({ name, problem }) => [name, problem.split(':')[0]]),
      [
        ['ftp', '/uris/0'],
        ['garbled', 'line 1'],
      ],
    );
  });
});
