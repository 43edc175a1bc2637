import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  keyringPathsOf,
  planRepositories,
  type RepositoryChange,
} from '../../../src/plugins/packagekit/repositories/plan.js';
import {
  repositoryOf,
  type RepositoriesMap,
  type RepositorySpec,
} from '../../../src/plugins/packagekit/repositories/schema.js';
import { renderRepository } from '../../../src/plugins/packagekit/repositories/sources-file.js';
import type {
  ForeignEntry,
  SourcesState,
} from '../../../src/plugins/packagekit/repositories/sources-state.js';
import { FIXTURE_FINGERPRINT, FIXTURE_KEY } from '../../helpers/repositories.js';

const DIR = '/etc/apt/sources.list.d';
const KEYRING = '/etc/apt/keyrings/pve.gpg';
const PVE: RepositorySpec = {
  uris: ['http://download.proxmox.com/debian/pve'],
  suites: ['bookworm'],
  components: ['pve-no-subscription'],
  signed_by: FIXTURE_KEY,
};
const VIEW = {
  types: ['deb'],
  uris: ['http://download.proxmox.com/debian/pve'],
  suites: ['bookworm'],
  components: ['pve-no-subscription'],
  enabled: true,
  signed_by: `embedded key ${FIXTURE_FINGERPRINT}`,
};

/** The file op-dbus would have written for `spec`. */
function written(name: string, spec: RepositorySpec): string {
  const repository = repositoryOf(spec);
  assert.ok(repository);
  return renderRepository(name, repository);
}

function state(
  managed: Record<string, string> = {},
  foreign: Partial<ForeignEntry>[] = [],
  keyrings: Record<string, boolean> = {},
): SourcesState {
  return {
    managed: new Map(
      Object.entries(managed).map(([name, content]) => [
        name,
        { name, path: `${DIR}/op-dbus-${name}.sources`, content },
      ]),
    ),
    foreign: foreign.map((entry) => ({
      path: `${DIR}/other.list`,
      line: 1,
      types: ['deb'],
      uris: [],
      suites: [],
      ...entry,
    })),
    keyrings: new Map(Object.entries(keyrings)),
  };
}

function planOne(spec: RepositorySpec, observed: SourcesState): RepositoryChange {
  const [change, ...more] = planRepositories({ pve: spec }, observed);
  assert.ok(change);
  assert.equal(more.length, 0);
  return change;
}

const PROXMOX_LIST = {
  path: `${DIR}/pve-install-repo.list`,
  line: 3,
  uris: ['http://Download.Proxmox.com/debian/pve/'],
  suites: ['bookworm'],
};

describe('repository planning (pure)', () => {
  const table: [string, RepositorySpec, SourcesState, string, RegExp?][] = [
    ['present, no file: add', PVE, state(), 'add'],
    ['present, the same file: none', PVE, state({ pve: written('pve', PVE) }), 'none'],
    [
      'present, a file with other URIs: update',
      PVE,
      state({ pve: written('pve', { ...PVE, uris: ['http://old.example/pve'] }) }),
      'update',
    ],
    [
      'present, file edited in comments only: update, saying it was edited',
      PVE,
      state({ pve: written('pve', PVE).replace(/^#.*\n/gmu, '') }),
      'update',
      /edited behind op-dbus's back/,
    ],
    ['present, the file garbled: update', PVE, state({ pve: 'garbage\n' }), 'update'],
    [
      'present, someone else configured the same archive: conflict, naming the file and line',
      PVE,
      state({}, [PROXMOX_LIST]),
      'conflict',
      /pve-install-repo\.list \(line 3\), a file op-dbus did not write and never changes/,
    ],
    [
      'present, own file as desired but a duplicate appeared: conflict',
      PVE,
      state({ pve: written('pve', PVE) }, [PROXMOX_LIST]),
      'conflict',
      /already configured in/,
    ],
    [
      'present, same URI in another suite elsewhere: no conflict',
      PVE,
      state({}, [{ ...PROXMOX_LIST, suites: ['bullseye'] }]),
      'add',
    ],
    [
      'present, same suite at another URI elsewhere: no conflict',
      PVE,
      state({}, [{ ...PROXMOX_LIST, uris: ['http://download.proxmox.com/debian/ceph-quincy'] }]),
      'add',
    ],
    [
      'present, keyring path missing: missing-keyring',
      { ...PVE, signed_by: KEYRING },
      state({}, [], { [KEYRING]: false }),
      'missing-keyring',
      /keyring file \/etc\/apt\/keyrings\/pve\.gpg does not exist/,
    ],
    [
      'present, keyring path there: add',
      { ...PVE, signed_by: KEYRING },
      state({}, [], { [KEYRING]: true }),
      'add',
    ],
    [
      'present, a damaged embedded key: invalid-key',
      { ...PVE, signed_by: FIXTURE_KEY.replace(/\n=(....)\n/u, '\n=AAAA\n') },
      state(),
      'invalid-key',
      /signed_by the key block fails its CRC-24 checksum/,
    ],
    [
      'absent, own file: remove',
      { ensure: 'absent' },
      state({ pve: written('pve', PVE) }),
      'remove',
    ],
    ['absent, nothing: none', { ensure: 'absent' }, state(), 'none'],
    [
      'absent, only configured elsewhere (named by the document): conflict',
      { ensure: 'absent', uris: PVE.uris, suites: PVE.suites },
      state({}, [PROXMOX_LIST]),
      'conflict',
      /still configured in .*pve-install-repo\.list/,
    ],
    [
      'absent, own file and a duplicate elsewhere: remove own, say the other stays',
      { ensure: 'absent' },
      state({ pve: written('pve', PVE) }, [PROXMOX_LIST]),
      'remove',
      /op-dbus removes only its own file/,
    ],
  ];
  for (const [name, spec, observed, action, reason] of table) {
    it(name, () => {
      const change = planOne(spec, observed);
      assert.equal(change.action, action, JSON.stringify(change));
      if (reason) assert.match(change.reason ?? '', reason);
      else assert.equal(change.reason, undefined, change.reason);
      // Only add and update carry something to write.
      assert.equal(change.content !== undefined, action === 'add' || action === 'update');
    });
  }

  it('add: from null to the repository, the key shown by fingerprint, the exact file content', () => {
    const change = planOne(PVE, state());
    assert.deepEqual({ from: change.from, to: change.to }, { from: null, to: VIEW });
    assert.equal(change.content, written('pve', PVE));
  });

  it('update: from what the file says to what the document says', () => {
    const change = planOne({ ...PVE, enabled: false }, state({ pve: written('pve', PVE) }));
    assert.deepEqual(change.from, VIEW);
    assert.deepEqual(change.to, { ...VIEW, enabled: false });
  });

  it('update of a garbled file: from names the file and the problem', () => {
    const change = planOne(PVE, state({ pve: 'garbage\n' }));
    assert.deepEqual(change.from, {
      file: `${DIR}/op-dbus-pve.sources`,
      problem: 'line 1: not a field',
    });
  });

  it('remove: from the file to null', () => {
    const change = planOne({ ensure: 'absent' }, state({ pve: written('pve', PVE) }));
    assert.deepEqual({ from: change.from, to: change.to }, { from: VIEW, to: null });
  });

  it('one change per repository of the document, in its order; others are not planned', () => {
    const desired: RepositoriesMap = {
      zeta: PVE,
      alpha: { ensure: 'absent' },
      mid: { ...PVE, uris: ['http://mid.example/debian'] },
    };
    const changes = planRepositories(
      desired,
      state({ alpha: written('alpha', PVE), unnamed: written('unnamed', PVE) }),
    );
    assert.deepEqual(
      changes.map((change) => [change.resource, change.repository, change.action]),
      [
        ['repository:zeta', 'zeta', 'add'],
        ['repository:alpha', 'alpha', 'remove'],
        ['repository:mid', 'mid', 'add'],
      ],
    );
  });

  it('names the keyring paths to look at: present ones only, never embedded keys', () => {
    assert.deepEqual(
      keyringPathsOf({
        a: { ...PVE, signed_by: KEYRING },
        b: PVE,
        c: { ensure: 'absent', signed_by: '/x.gpg' },
      }),
      [KEYRING],
    );
  });
});
