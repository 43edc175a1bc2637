import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectArmoredPublicKey } from '../../../src/plugins/packagekit/repositories/openpgp-key.js';
import { armor, dearmor, FIXTURE_FINGERPRINT, FIXTURE_KEY } from '../../helpers/repositories.js';

function problemOf(text: string): string {
  const inspection = inspectArmoredPublicKey(text);
  assert.equal(inspection.ok, false, 'accepted');
  return inspection.ok ? '' : inspection.problem;
}

function fingerprintsOf(text: string): string[] {
  const inspection = inspectArmoredPublicKey(text);
  assert.ok(inspection.ok, inspection.ok ? '' : inspection.problem);
  return inspection.info.fingerprints;
}

describe('armored public key inspection (pure, no gpg)', () => {
  it('gives the fingerprint gpg gives (v4: SHA-1 of the key packet)', () => {
    assert.deepEqual(fingerprintsOf(FIXTURE_KEY), [FIXTURE_FINGERPRINT]);
  });

  it('accepts the block re-armored without a CRC line and without the final newline', () => {
    assert.deepEqual(fingerprintsOf(armor(dearmor(FIXTURE_KEY)).trimEnd()), [FIXTURE_FINGERPRINT]);
  });

  it('lists every primary key of a block that holds two', () => {
    const data = dearmor(FIXTURE_KEY);
    assert.deepEqual(fingerprintsOf(armor(Buffer.concat([data, data]))), [
      FIXTURE_FINGERPRINT,
      FIXTURE_FINGERPRINT,
    ]);
  });

  it('refuses a damaged block whose checksum no longer matches', () => {
    // One base64 character changed in the middle of the first body line.
    const lines = FIXTURE_KEY.split('\n');
    const line = lines[2] ?? '';
    lines[2] = `${line.slice(0, 20)}${line[20] === 'A' ? 'B' : 'A'}${line.slice(21)}`;
    assert.match(problemOf(lines.join('\n')), /CRC-24 checksum/);
  });

  it('refuses base64 that does not decode whole', () => {
    const lines = FIXTURE_KEY.split('\n');
    lines[2] = (lines[2] ?? '').slice(1);
    assert.match(problemOf(lines.join('\n')), /not valid base64/);
  });

  it('refuses secret key material inside a PUBLIC KEY BLOCK', () => {
    const data = Buffer.from(dearmor(FIXTURE_KEY));
    // Old-format header: tag in bits 5..2. Public key (6) becomes secret key (5).
    assert.equal((data[0] ?? 0) >> 2, 0x80 / 4 + 6);
    data[0] = 0x80 | (5 << 2) | ((data[0] ?? 0) & 0x03);
    assert.match(problemOf(armor(data)), /secret key material/);
  });

  it('refuses a block that does not start with a public key', () => {
    const data = dearmor(FIXTURE_KEY);
    // Skip the first packet (old format, two-octet length).
    const length = data.readUInt16BE(1);
    assert.match(problemOf(armor(data.subarray(3 + length))), /does not start with a public key/);
  });

  it('refuses packets that have no place in a key (compressed data)', () => {
    const data = Buffer.concat([dearmor(FIXTURE_KEY), Buffer.from([0xc8, 0x01, 0x00])]);
    assert.match(problemOf(armor(data)), /packet of type 8/);
  });

  it('refuses a truncated block', () => {
    const data = dearmor(FIXTURE_KEY);
    assert.match(problemOf(armor(data.subarray(0, data.length - 10))), /malformed: truncated/);
  });

  it('refuses a PRIVATE KEY BLOCK and anything not armored', () => {
    for (const text of [FIXTURE_KEY.replace(/PUBLIC/g, 'PRIVATE'), 'hello', '', '/etc/key.gpg'])
      assert.match(problemOf(text), /not an ASCII-armored OpenPGP public key block/);
  });
});
