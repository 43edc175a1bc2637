import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { DocumentValidator } from '../../../src/document/validator.js';
import { ErrorName, OpdbusError } from '../../../src/errors.js';
import {
  repositoryKeyProblems,
  repositoryOf,
  type RepositorySpec,
} from '../../../src/plugins/packagekit/repositories/schema.js';
import { PackageKitSection } from '../../../src/plugins/packagekit/schema.js';
import { FIXTURE_KEY } from '../../helpers/repositories.js';

// The packagekit plugin's own section: `repositories` beside `packages`.
const validator = new DocumentValidator(
  buildDocumentSchema([{ name: 'packagekit', schema: PackageKitSection }]),
);

const PVE: RepositorySpec = {
  ensure: 'present',
  types: ['deb'],
  uris: ['http://download.proxmox.com/debian/pve'],
  suites: ['bookworm'],
  components: ['pve-no-subscription'],
  signed_by: FIXTURE_KEY,
  enabled: true,
};

const doc = (repositories: object): string =>
  JSON.stringify({ version: 1, plugins: { packagekit: { repositories } } });

function problemsOf(repositories: object): string {
  try {
    validator.parse(doc(repositories));
  } catch (err) {
    assert.ok(err instanceof OpdbusError);
    assert.equal(err.dbusName, ErrorName.InvalidDocument);
    return err.message;
  }
  return assert.fail(`accepted: ${JSON.stringify(repositories).slice(0, 300)}`);
}

const AT = '/plugins/packagekit/repositories';
const URI_PROBLEM = 'must be an absolute http, https or file URI';
const KEY_PROBLEM =
  'must be an ASCII-armored OpenPGP PUBLIC KEY BLOCK \\(LF line ends\\) or an absolute path to a keyring file';

describe('repository schema: accepted', () => {
  const good: [string, object][] = [
    ["the issue's example, key embedded", { pve: PVE }],
    ['the key without its final newline', { pve: { ...PVE, signed_by: FIXTURE_KEY.trimEnd() } }],
    [
      'the key with armor headers',
      {
        pve: {
          ...PVE,
          signed_by: FIXTURE_KEY.replace('-----\n\n', '-----\nComment: Proxmox\nVersion: 1\n\n'),
        },
      },
    ],
    [
      'the key as a path, defaults left out',
      {
        pve: {
          uris: ['http://download.proxmox.com/debian/pve'],
          suites: ['bookworm'],
          components: ['pve-no-subscription'],
          signed_by: '/etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg',
        },
      },
    ],
    ['absent, with nothing else', { pve: { ensure: 'absent' } }],
    [
      'a flat repository (Kubernetes style URI)',
      {
        k8s: {
          uris: ['https://pkgs.k8s.io/core:/stable:/v1.30/deb/'],
          suites: ['/'],
          signed_by: '/etc/apt/keyrings/kubernetes-apt-keyring.gpg',
        },
      },
    ],
    [
      'deb and deb-src, architectures, several suites, a port, a file URI',
      {
        docker: {
          types: ['deb', 'deb-src'],
          uris: ['https://download.docker.com:443/linux/debian', 'file:///srv/mirror/docker'],
          suites: ['bookworm', 'bookworm-updates'],
          components: ['stable', 'main/debian-installer'],
          architectures: ['amd64', 'arm64'],
          signed_by: '/etc/apt/keyrings/docker.asc',
          enabled: false,
        },
      },
    ],
    ['an IPv6 host', { v6: { ...PVE, uris: ['http://[2001:db8::1]:8080/debian'] } }],
    ['names of digits and dashes', { '0': PVE, 'pve-8': PVE }],
  ];
  for (const [name, repositories] of good) {
    it(`accepts ${name}`, () => {
      validator.parse(doc(repositories));
    });
  }
});

describe('repository schema: refused, naming the path', () => {
  const bad: [string, object, RegExp][] = [
    ...[
      'download.proxmox.com/debian/pve',
      '/debian/pve',
      'ftp://ftp.debian.org/debian',
      'cdrom:[Debian 12]/',
      'http://user:secret@download.proxmox.com/debian',
      'http:///debian',
      'file:relative/dir',
      'file://../archive',
      'file:///srv/../etc',
      'http://example.com/debian/../etc',
      'http://example.com/$(ARCH)',
      'http://example.com/a b',
      'http://example.com/a\nb',
      'mirror+http://example.com/mirrors.txt',
    ].map((uri): [string, object, RegExp] => [
      `the uri ${JSON.stringify(uri)}`,
      { pve: { ...PVE, uris: ['http://ok.example/debian', uri] } },
      new RegExp(`${AT}/pve/uris/1: ${URI_PROBLEM}`),
    ]),
    ...(
      [
        ['garbage', 'hello'],
        ['a private key block', FIXTURE_KEY.replace(/PUBLIC/g, 'PRIVATE')],
        ['a key with CRLF line ends', FIXTURE_KEY.replace(/\n/g, '\r\n')],
        ['a key with text before it', `key:\n${FIXTURE_KEY}`],
        ['a key with no empty line after the header', FIXTURE_KEY.replace('-----\n\n', '-----\n')],
        ['a key with a space in its body', FIXTURE_KEY.replace(/\n([A-Za-z0-9])/, '\n $1')],
        ['a relative keyring path', 'keys/proxmox.gpg'],
        ['a keyring path with ..', '/etc/apt/../../root/key.gpg'],
        ['a hidden keyring file', '/etc/apt/.key.gpg'],
        ['a keyring path with a space', '/etc/apt/my key.gpg'],
        ['a fingerprint (not supported)', 'CEF18EAB787E74363B692D6B21EA9544DC82BEF0'],
      ] as const
    ).map(([what, signedBy]): [string, object, RegExp] => [
      `signed_by as ${what}`,
      { pve: { ...PVE, signed_by: signedBy } },
      new RegExp(`${AT}/pve/signed_by: ${KEY_PROBLEM}`),
    ]),
    ...['a/b', '..', '../etc', 'Pve', '-pve', 'pve.list', 'pve_8', '', 'x'.repeat(64)].map(
      (name): [string, object, RegExp] => [
        `the name ${JSON.stringify(name)}`,
        { [name]: PVE },
        new RegExp(`${AT}: '${name.replace(/[.]/g, '\\.')}' is not a valid name`),
      ],
    ),
    ['an unknown field', { pve: { ...PVE, colour: 'red' } }, /\/pve: unknown field 'colour'/],
    ['a misspelt field', { pve: { ...PVE, signedBy: '/x.gpg' } }, /unknown field 'signedBy'/],
    [
      'present without a key',
      { pve: { ...PVE, signed_by: undefined } },
      /\/pve: missing required field 'signed_by'/,
    ],
    [
      'present without uris',
      { pve: { ...PVE, uris: undefined } },
      /\/pve: missing required field 'uris'/,
    ],
    [
      'a named suite without components',
      { pve: { ...PVE, components: undefined } },
      /\/pve: missing required field 'components'/,
    ],
    [
      'a flat suite with components',
      { pve: { ...PVE, suites: ['./'] } },
      /\/pve\/components: must be empty: a flat repository/,
    ],
    [
      'flat and named suites mixed',
      { pve: { ...PVE, suites: ['./', 'bookworm'], components: undefined } },
      /\/pve\/suites\/1: must be a path ending in "\/"/,
    ],
    ['ensure installed', { pve: { ...PVE, ensure: 'installed' } }, /\/pve\/ensure: must be one of/],
    ['types rpm', { pve: { ...PVE, types: ['rpm'] } }, /\/pve\/types\/0: must be one of/],
    ['no types', { pve: { ...PVE, types: [] } }, /\/pve\/types: must NOT have fewer than 1/],
    ['a repeated uri', { pve: { ...PVE, uris: ['http://a/x', 'http://a/x'] } }, /\/pve\/uris: /],
    ['enabled "yes"', { pve: { ...PVE, enabled: 'yes' } }, /\/pve\/enabled: must be boolean/],
    [
      'an odd suite',
      { pve: { ...PVE, suites: ['book worm'] } },
      /\/pve\/suites\/0: must be a suite/,
    ],
    ['an odd component', { pve: { ...PVE, components: ['../main'] } }, /\/pve\/components\/0: /],
    ['an odd architecture', { pve: { ...PVE, architectures: ['AMD64'] } }, /\/architectures\/0: /],
  ];
  for (const [name, repositories, expected] of bad) {
    it(`refuses ${name}`, () => {
      assert.match(problemsOf(repositories), expected);
    });
  }
});

describe('repository keys: what the pattern cannot see', () => {
  it('names a key that passes the pattern but fails its checksum', () => {
    const damaged = FIXTURE_KEY.replace(/\n=(....)\n/, '\n=AAAA\n');
    assert.notEqual(damaged, FIXTURE_KEY);
    validator.parse(doc({ pve: { ...PVE, signed_by: damaged } }));
    assert.deepEqual(repositoryKeyProblems({ pve: { ...PVE, signed_by: damaged } }, AT), [
      `${AT}/pve/signed_by: the key block fails its CRC-24 checksum (damaged in copying?)`,
    ]);
  });

  it('has nothing to say about good keys, paths and absent repositories', () => {
    assert.deepEqual(
      repositoryKeyProblems(
        {
          pve: { ...PVE, ensure: 'present' },
          path: { ...PVE, signed_by: '/etc/apt/keyrings/x.gpg' },
          gone: { ensure: 'absent', signed_by: 'whatever' },
        },
        AT,
      ),
      [],
    );
  });
});

describe('repository defaults', () => {
  it('fills in types, enabled, components and normalises the key to one final newline', () => {
    const repository = repositoryOf({
      uris: ['http://a/x'],
      suites: ['./'],
      signed_by: `${FIXTURE_KEY.trimEnd()}\n\n`,
    });
    assert.deepEqual(repository, {
      types: ['deb'],
      uris: ['http://a/x'],
      suites: ['./'],
      components: [],
      signedBy: `${FIXTURE_KEY.trimEnd()}\n`,
      enabled: true,
      architectures: undefined,
    });
  });

  it('absent has no repository to write', () => {
    assert.equal(repositoryOf({ ensure: 'absent' }), undefined);
  });
});
