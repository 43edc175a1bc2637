import { readFileSync } from 'node:fs';

/** A throwaway RSA-3072 public key made with gpg 2.2 for these tests (its secret part was never kept). */
export const FIXTURE_KEY = readFileSync(
  new URL('../fixtures/repositories/fixture-key.asc', import.meta.url),
  'utf8',
);
/** Its fingerprint as `gpg --with-colons --list-keys` printed it. */
export const FIXTURE_FINGERPRINT = 'CEF18EAB787E74363B692D6B21EA9544DC82BEF0';

/** The binary OpenPGP data inside an armored block (no checks: tests feed it known input). */
export function dearmor(text: string): Buffer {
  const lines = text.trim().split('\n');
  const body = lines.slice(lines.indexOf('') + 1, -1).filter((line) => !line.startsWith('='));
  return Buffer.from(body.join(''), 'base64');
}

/** Armors binary data as a public key block, without the optional CRC line. */
export function armor(data: Buffer): string {
  const base64 = data.toString('base64');
  const lines = base64.match(/.{1,64}/gu) ?? [];
  return `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${lines.join('\n')}\n-----END PGP PUBLIC KEY BLOCK-----\n`;
}
