// The packagekit plugin's whole plan: repositories (as repository:NAME) before
// packages, a repository without package lists planned as 'refresh', and a
// package no repository has yet still 'unresolvable', but saying it is looked
// for again when the same apply refreshes the lists. Pure: no bus, no files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layerOf } from '../../../src/engine/desired/layers.js';
import { captureSection } from '../../../src/plugins/packagekit/capture.js';
import { packagekitPlugin } from '../../../src/plugins/packagekit/index.js';
import { groupByName } from '../../../src/plugins/packagekit/plan.js';
import type { RepositorySpec } from '../../../src/plugins/packagekit/repositories/schema.js';
import { renderRepository } from '../../../src/plugins/packagekit/repositories/sources-file.js';
import { repositoryOf } from '../../../src/plugins/packagekit/repositories/schema.js';
import type { SourcesState } from '../../../src/plugins/packagekit/repositories/sources-state.js';
import type { PackageKitSection } from '../../../src/plugins/packagekit/schema.js';
import {
  narrowSection,
  planSection,
  sectionResources,
  plansRefresh,
  type ObservedSection,
} from '../../../src/plugins/packagekit/section.js';
import { parsePackageId } from '../../../src/plugins/packagekit/transaction-error.js';
import { enginePlugin, testHost } from '../../helpers/plugin-host.js';
import { FIXTURE_KEY } from '../../helpers/repositories.js';

const PVE: RepositorySpec = {
  uris: ['http://download.proxmox.com/debian/pve'],
  suites: ['bookworm'],
  components: ['pve-no-subscription'],
  signed_by: FIXTURE_KEY,
};
const SL = parsePackageId(2, 'sl;5.02-1+b1;amd64;debian-oldstable-main', 'steam locomotive');

function sources(managed: Record<string, RepositorySpec> = {}): SourcesState {
  return {
    managed: new Map(
      Object.entries(managed).map(([name, spec]) => {
        const repository = repositoryOf(spec);
        assert.ok(repository);
        const path = `/etc/apt/sources.list.d/op-dbus-${name}.sources`;
        return [name, { name, path, content: renderRepository(name, repository) }];
      }),
    ),
    foreign: [],
    keyrings: new Map(),
  };
}

function observed(
  state: SourcesState | undefined,
  listsMissing: string[] = [],
  packages = ['proxmox-ve', 'sl'],
): ObservedSection {
  return {
    packages: groupByName(packages, [SL]),
    repositories: state ? { sources: state, listsMissing: new Set(listsMissing) } : undefined,
  };
}

const SECTION: PackageKitSection = {
  repositories: { pve: PVE },
  packages: { 'proxmox-ve': { ensure: 'installed' }, sl: { ensure: 'installed' } },
};

describe('the packagekit section plan', () => {
  it('repositories first, named repository:NAME; then packages; an unresolvable one will be looked for after the refresh', () => {
    const changes = planSection(SECTION, observed(sources()));
    assert.deepEqual(
      changes.map((c) => [c.resource, c.action]),
      [
        ['repository:pve', 'add'],
        ['proxmox-ve', 'unresolvable'],
        ['sl', 'install'],
      ],
    );
    assert.match(
      changes[1]?.reason ?? '',
      /^no package named 'proxmox-ve' in any repository PackageKit knows; looked for again after this apply refreshes the package lists$/,
    );
    assert.equal(plansRefresh(changes), true);
  });

  it('a written repository whose lists are missing is planned refresh, with the reason', () => {
    const [repository, pve] = planSection(SECTION, observed(sources({ pve: PVE }), ['pve']));
    assert.equal(repository?.action, 'refresh');
    assert.match(repository?.reason ?? '', /no package lists/);
    assert.deepEqual(repository?.from, repository?.to);
    assert.match(pve?.reason ?? '', /looked for again/);
  });

  it('nothing to refresh: the unresolvable package says only why', () => {
    const changes = planSection(SECTION, observed(sources({ pve: PVE })));
    assert.deepEqual(
      changes.map((c) => [c.resource, c.action]),
      [
        ['repository:pve', 'none'],
        ['proxmox-ve', 'unresolvable'],
        ['sl', 'install'],
      ],
    );
    assert.doesNotMatch(changes[1]?.reason ?? '', /looked for again/);
    assert.equal(plansRefresh(changes), false);
  });

  it('a section without repositories plans only packages (sources were not read)', () => {
    const changes = planSection({ packages: { sl: { ensure: 'installed' } } }, observed(undefined));
    assert.deepEqual(
      changes.map((c) => [c.resource, c.action]),
      [['sl', 'install']],
    );
  });

  it('a package and a repository may share a name: their resources differ', () => {
    const changes = planSection(
      { repositories: { sl: PVE }, packages: { sl: { ensure: 'installed' } } },
      observed(sources(), [], ['sl']),
    );
    assert.deepEqual(
      changes.map((c) => c.resource),
      ['repository:sl', 'sl'],
    );
  });

  it('names its resources as plans do (for fleet layers): packages, then repository:NAME', () => {
    assert.deepEqual(
      sectionResources({ repositories: { pve: PVE }, packages: { pve: { ensure: 'installed' } } }),
      ['pve', 'repository:pve'],
    );
  });

  it('fleet layers: a repository row is traced to the layer that names the repository', async () => {
    const { host, stop } = testHost(packagekitPlugin);
    try {
      const plugins = [enginePlugin(packagekitPlugin, host)];
      const layers = [
        {
          name: 'local',
          revision: 0,
          document: {
            version: 1 as const,
            plugins: { packagekit: { packages: { pve: { ensure: 'installed' } } } },
          },
        },
        {
          name: 'node:n1',
          revision: 7,
          document: {
            version: 1 as const,
            plugins: { packagekit: { repositories: { pve: PVE } } },
          },
        },
      ];
      assert.equal(layerOf(plugins, layers, 'packagekit', 'repository:pve'), 'node:n1');
      assert.equal(layerOf(plugins, layers, 'packagekit', 'pve'), 'local');
    } finally {
      await stop();
    }
  });

  it('narrows to the named resources: packages by name, repositories by repository:NAME', () => {
    const section: PackageKitSection = {
      repositories: { pve: PVE, other: { ensure: 'absent' } },
      packages: { sl: { ensure: 'installed' }, pve: { ensure: 'installed' } },
    };
    assert.deepEqual(narrowSection(section, ['repository:pve']), {
      packages: {},
      repositories: { pve: PVE },
    });
    assert.deepEqual(narrowSection(section, ['pve']), {
      packages: { pve: { ensure: 'installed' } },
    });
  });
});

describe('what an apply on probation captures (the rollback section)', () => {
  it('repositories as their files say now, absent where there is none; packages as installed now', () => {
    const desired: PackageKitSection = {
      repositories: { pve: { ...PVE, enabled: false }, fresh: PVE },
      packages: { sl: { ensure: 'installed' } },
    };
    const { section, restore } = captureSection(
      desired,
      observed(sources({ pve: PVE }), [], ['sl']),
    );
    assert.equal(restore, 'approximate');
    assert.deepEqual(section.packages, { sl: { ensure: 'removed', autoremove: true } });
    assert.deepEqual(section.repositories?.fresh, { ensure: 'absent' });
    assert.equal(section.repositories?.pve?.enabled, true, 'as the file is, not as desired');
    // Applying the capture to the machine as it was plans nothing.
    const back = planSection(
      { repositories: section.repositories },
      observed(sources({ pve: PVE }), [], []),
    );
    assert.deepEqual(
      back.map((c) => [c.resource, c.action]),
      [
        ['repository:pve', 'none'],
        ['repository:fresh', 'none'],
      ],
    );
  });

  it('a section without repositories captures packages only', () => {
    const { section } = captureSection(
      { packages: { sl: { ensure: 'removed' } } },
      observed(undefined, [], ['sl']),
    );
    assert.equal(section.repositories, undefined);
  });
});
