import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  aptListFileName,
  releaseListFiles,
} from '../../../src/plugins/packagekit/repositories/apt-lists.js';
import { parseDeb822 } from '../../../src/plugins/packagekit/repositories/deb822.js';
import type { Repository } from '../../../src/plugins/packagekit/repositories/schema.js';
import {
  entriesOfListFile,
  entriesOfSourcesFile,
  managedNameOf,
  normalizedUri,
  parseManagedFile,
  renderRepository,
} from '../../../src/plugins/packagekit/repositories/sources-file.js';
import { FIXTURE_KEY } from '../../helpers/repositories.js';

const PVE: Repository = {
  types: ['deb'],
  uris: ['http://download.proxmox.com/debian/pve'],
  suites: ['bookworm'],
  components: ['pve-no-subscription'],
  signedBy: FIXTURE_KEY,
  enabled: true,
  architectures: undefined,
};

describe('deb822 rendering of a repository', () => {
  it('writes the documented fields, the key embedded as continuation lines', () => {
    const text = renderRepository('pve', PVE);
    const keyLines = FIXTURE_KEY.trimEnd()
      .split('\n')
      .map((line) => ` ${line === '' ? '.' : line}`);
    assert.equal(
      text,
      '# Written by op-dbus for the repository "pve" of its document.\n' +
        '# Changes made here are undone: change the document instead.\n' +
        'Types: deb\n' +
        'URIs: http://download.proxmox.com/debian/pve\n' +
        'Suites: bookworm\n' +
        'Components: pve-no-subscription\n' +
        'Enabled: yes\n' +
        `Signed-By:\n${keyLines.join('\n')}\n`,
    );
    // An empty line would end the stanza in the middle of the key.
    assert.doesNotMatch(text, /\n\n/);
    assert.match(text, /\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n \.\n m/);
  });

  const variants: [string, Repository][] = [
    ['an embedded key', PVE],
    ['a keyring path', { ...PVE, signedBy: '/etc/apt/keyrings/pve.gpg' }],
    ['a disabled repository', { ...PVE, enabled: false }],
    [
      'several of everything, deb-src and architectures',
      {
        ...PVE,
        types: ['deb', 'deb-src'],
        uris: ['http://a.example/debian', 'file:///srv/mirror'],
        suites: ['bookworm', 'bookworm-updates'],
        components: ['main', 'contrib'],
        architectures: ['amd64', 'arm64'],
      },
    ],
    ['a flat repository', { ...PVE, suites: ['./'], components: [] }],
    [
      'a key with armor headers',
      { ...PVE, signedBy: FIXTURE_KEY.replace('-----\n\n', '-----\nComment: x: y\n\n') },
    ],
  ];
  for (const [name, repository] of variants) {
    it(`reads back what it writes: ${name}`, () => {
      const parsed = parseManagedFile(renderRepository('pve', repository));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.problem);
      assert.deepEqual(parsed.repository, repository);
    });
  }

  it('reads a key written the other ways apt allows (tabs, first line on the field line)', () => {
    const body = FIXTURE_KEY.trimEnd().split('\n');
    const text =
      'types: deb\nuris: http://download.proxmox.com/debian/pve\nsuites: bookworm\n' +
      'components: pve-no-subscription\n' +
      `signed-by: ${body[0] ?? ''}\n${body
        .slice(1)
        .map((line) => `\t${line === '' ? '.' : line}`)
        .join('\n')}\n`;
    const parsed = parseManagedFile(text);
    assert.ok(parsed.ok);
    assert.equal(parsed.repository.signedBy, FIXTURE_KEY);
    assert.equal(parsed.repository.enabled, true);
  });

  it('refuses a managed file that is not one clean stanza', () => {
    for (const [text, expected] of [
      ['Types: deb\n\nTypes: deb\n', /2 stanzas/],
      ['', /0 stanzas/],
      ['Types: deb\nthis is not a field\n', /line 2: not a field/],
      ['Types: rpm\nURIs: http://a/x\n', /Types must be deb/],
      ['Types: deb\nEnabled: maybe\n', /Enabled is neither/],
      ['Types: deb\nTypes: deb-src\n', /repeated/],
    ] as const) {
      const parsed = parseManagedFile(text);
      assert.equal(parsed.ok, false, text);
      assert.match(parsed.ok ? '' : parsed.problem, expected);
    }
  });
});

describe('deb822 parsing', () => {
  it('keeps comments out, joins continuation lines, reads " ." as an empty line, CRLF too', () => {
    const { stanzas, problems } = parseDeb822(
      '# top\r\nA: 1\r\n# between\r\nB:\r\n x\r\n .\r\n\ty\r\n\r\n\r\nc: 3\r\n',
    );
    assert.deepEqual(problems, []);
    assert.equal(stanzas.length, 2);
    assert.equal(stanzas[0]?.fields.get('b')?.value, 'x\n\ny');
    assert.equal(stanzas[0]?.line, 2);
    assert.equal(stanzas[1]?.fields.get('c')?.value, '3');
    assert.equal(stanzas[1]?.line, 10);
  });

  it('reads a line of blanks as apt does: a continuation, not the end of the stanza', () => {
    const { stanzas } = parseDeb822('A: 1\n   \nB: 2\n\t\n\nC: 3\n');
    assert.equal(stanzas.length, 2);
    assert.deepEqual([...(stanzas[0]?.fields.keys() ?? [])], ['a', 'b']);
  });

  it('keeps a leading empty line of a multi-line value', () => {
    const { stanzas } = parseDeb822('A:\n .\n x\n');
    assert.equal(stanzas[0]?.fields.get('a')?.value, '\nx');
  });

  it('reports a continuation line with no field before it', () => {
    assert.deepEqual(parseDeb822(' orphan\nA: 1\n').problems, [
      'line 1: a continuation line outside a field',
    ]);
  });
});

describe("entries of others' files (for conflicts)", () => {
  it('reads every enabled stanza of a .sources file, with its line', () => {
    const entries = entriesOfSourcesFile(
      '# a comment\nTypes: deb\nURIs: http://a/x http://b/y\nSuites: s1 s2\nComponents: main\n\n' +
        'Types: deb\nURIs: http://c/z\nSuites: s3\nEnabled: no\n\n' +
        'Types: deb-src\nURIs: http://d/w\nSuites: s4\nEnabled: yes\n',
    );
    assert.deepEqual(entries, [
      { line: 2, types: ['deb'], uris: ['http://a/x', 'http://b/y'], suites: ['s1', 's2'] },
      { line: 12, types: ['deb-src'], uris: ['http://d/w'], suites: ['s4'] },
    ]);
  });

  it('reads one-line entries as apt does: options, comments, deb-src', () => {
    const entries = entriesOfListFile(
      [
        'deb http://download.proxmox.com/debian/pve bookworm pve-no-subscription',
        '# deb http://commented.example/debian bookworm main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://a.example/deb stable main # tail',
        'deb-src [ trusted=yes ] http://b.example/ sid main',
        'deb    http://c.example/flat ./',
        'not an entry',
        'deb incomplete',
      ].join('\n'),
    );
    assert.deepEqual(
      entries.map((entry) => [entry.line, entry.types[0], entry.uris[0], entry.suites[0]]),
      [
        [1, 'deb', 'http://download.proxmox.com/debian/pve', 'bookworm'],
        [3, 'deb', 'https://a.example/deb', 'stable'],
        [4, 'deb-src', 'http://b.example/', 'sid'],
        [5, 'deb', 'http://c.example/flat', './'],
      ],
    );
  });
});

describe('names and URIs', () => {
  it('owns exactly op-dbus-<valid name>.sources', () => {
    const table: [string, string | undefined][] = [
      ['op-dbus-pve.sources', 'pve'],
      ['op-dbus-pve-8.sources', 'pve-8'],
      ['op-dbus-pve.list', undefined],
      ['op-dbus-.sources', undefined],
      ['op-dbus-Pve.sources', undefined],
      ['op-dbus-a.b.sources', undefined],
      ['.op-dbus-pve.sources.0a1b.tmp', undefined],
      ['op-dbus-pve.sources.disabled', undefined],
      ['pve.sources', undefined],
    ];
    for (const [fileName, name] of table) assert.equal(managedNameOf(fileName), name, fileName);
  });

  it('compares URIs as apt does', () => {
    const same: [string, string][] = [
      ['http://download.proxmox.com/debian/pve', 'http://download.proxmox.com/debian/pve/'],
      ['HTTP://Download.Proxmox.COM/debian/pve', 'http://download.proxmox.com/debian/pve'],
      ['file:///srv/repo', 'file:/srv/repo/'],
      ['file://localhost/srv/repo', 'file:/srv/repo'],
    ];
    for (const [a, b] of same) assert.equal(normalizedUri(a), normalizedUri(b), `${a} ~ ${b}`);
    assert.notEqual(normalizedUri('http://a/Debian'), normalizedUri('http://a/debian'));
    assert.notEqual(normalizedUri('http://a/debian'), normalizedUri('https://a/debian'));
  });

  it("names lists files as apt's URItoFileName does", () => {
    const table: [string, string][] = [
      [
        'http://download.proxmox.com/debian/pve/dists/bookworm/InRelease',
        'download.proxmox.com_debian_pve_dists_bookworm_InRelease',
      ],
      ['https://user:pw@host.example:8443/a/b', 'host.example:8443_a_b'],
      ['file:/tmp/a_b~c/x', '_tmp_a%5fb%7ec_x'],
    ];
    for (const [uri, name] of table) assert.equal(aptListFileName(uri), name, uri);
    assert.deepEqual(releaseListFiles('http://a.example/debian/', 'bookworm'), [
      'a.example_debian_dists_bookworm_InRelease',
      'a.example_debian_dists_bookworm_Release',
    ]);
    assert.deepEqual(releaseListFiles('file:///srv/flat', './'), [
      '_srv_flat_._InRelease',
      '_srv_flat_._Release',
    ]);
    assert.deepEqual(releaseListFiles('file:///srv/flat', '/'), [
      '_srv_flat_InRelease',
      '_srv_flat_Release',
    ]);
  });
});
