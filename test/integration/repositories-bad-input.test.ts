// Bad repository input through the daemon's own Apply and Plan: refused as
// InvalidDocument naming the path, before anything is written, planned or
// queued. The daemon's sources folder is a scratch folder (packagekit.sourcesDir),
// so even a bug could not write into the host's /etc/apt.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorName } from '../../src/errors.js';
import { startStack, type Stack } from '../harness/stack.js';
import { errorOf, SignalRecorder } from '../helpers/bus-client.js';
import { FIXTURE_KEY } from '../helpers/repositories.js';

const GOOD = {
  uris: ['http://download.proxmox.com/debian/pve'],
  suites: ['bookworm'],
  components: ['pve-no-subscription'],
  signed_by: FIXTURE_KEY,
};
const AT = '/plugins/packagekit/repositories';

function document(repositories: Record<string, object>): string {
  return JSON.stringify({
    version: 1,
    plugins: {
      packagekit: { repositories, packages: { 'proxmox-ve': { ensure: 'installed' } } },
    },
  });
}

const BAD: [name: string, text: string, says: RegExp][] = [
  [
    'a uri that is not absolute',
    document({ pve: { ...GOOD, uris: ['download.proxmox.com/debian/pve'] } }),
    new RegExp(`${AT}/pve/uris/0: must be an absolute http, https or file URI`),
  ],
  [
    'a key that is not an armored public key block',
    document({ pve: { ...GOOD, signed_by: FIXTURE_KEY.replace(/PUBLIC/g, 'PRIVATE') } }),
    new RegExp(`${AT}/pve/signed_by: must be an ASCII-armored OpenPGP PUBLIC KEY BLOCK`),
  ],
  [
    'a relative keyring path',
    document({ pve: { ...GOOD, signed_by: 'keys/proxmox.gpg' } }),
    new RegExp(`${AT}/pve/signed_by: must be an ASCII-armored .* or an absolute path`),
  ],
  ['a name with /', document({ 'a/b': GOOD }), new RegExp(`${AT}: 'a/b' is not a valid name`)],
  ['the name ..', document({ '..': GOOD }), new RegExp(`${AT}: '\\.\\.' is not a valid name`)],
  [
    'a name with ../',
    document({ '../etc': GOOD }),
    new RegExp(`${AT}: '\\.\\./etc' is not a valid name`),
  ],
];

describe('bad repository input through Apply and Plan', () => {
  let stack: Stack;
  let recorder: SignalRecorder;
  let sourcesDir: string;
  before(async () => {
    sourcesDir = await mkdtemp(join(tmpdir(), 'opdbus-sources-'));
    stack = await startStack({
      daemonArgs: [
        '--no-drift-correction',
        '--plugin-option',
        `packagekit.sourcesDir=${sourcesDir}`,
      ],
    });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
    await rm(sourcesDir, { recursive: true, force: true });
  });

  for (const [name, text, says] of BAD) {
    it(`refuses ${name}, naming the path, and changes nothing`, async () => {
      const generation = await stack.client.managerProperty('DesiredGeneration');
      const jobs = recorder.named('JobNew').length;
      for (const call of [() => stack.client.apply(text), () => stack.client.plan(text)]) {
        const error = await errorOf(call());
        assert.equal(error.type, ErrorName.InvalidDocument);
        assert.match(error.text, says);
      }
      assert.equal(await stack.client.managerProperty('DesiredGeneration'), generation);
      assert.equal(recorder.named('JobNew').length, jobs);
      assert.deepEqual(await readdir(sourcesDir), []);
    });
  }

  it('the same document with good input is planned (repository:pve add) and nothing is written', async () => {
    const rows = JSON.parse(await stack.client.plan(document({ pve: GOOD }))) as {
      resource: string;
      action: string;
    }[];
    assert.deepEqual(
      rows.map((row) => [row.resource, row.action]),
      [
        ['repository:pve', 'add'],
        ['proxmox-ve', 'unresolvable'],
      ],
    );
    assert.deepEqual(await readdir(sourcesDir), []);
  });
});
