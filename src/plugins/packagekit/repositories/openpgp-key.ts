import { createHash } from 'node:crypto';

const ARMOR_HEADERS = '(?:[A-Za-z][A-Za-z0-9-]{0,63}: [^\\n]{0,200}\\n){0,10}';
const ARMOR_BODY = '(?:[A-Za-z0-9+/]{1,76}={0,2}\\n)+';
const ARMOR_CHECKSUM = '=([A-Za-z0-9+/]{4})\\n';

/**
 * An ASCII-armored OpenPGP public key block (RFC 4880 section 6.2), LF line ends:
 * the header line, optional armor headers (Version:, Comment:), one empty line,
 * base64 lines, an optional CRC line, the footer, an optional final newline.
 * A private key block, CRLF text or anything around the block does not match.
 */
export const ARMORED_PUBLIC_KEY_PATTERN =
  '-----BEGIN PGP PUBLIC KEY BLOCK-----\\n' +
  ARMOR_HEADERS +
  '\\n' +
  ARMOR_BODY +
  `(?:${ARMOR_CHECKSUM.replace('(', '(?:')})?` +
  '-----END PGP PUBLIC KEY BLOCK-----\\n?';

/** The same block, capturing the body and the checksum. */
const armorRegExp = new RegExp(
  '^-----BEGIN PGP PUBLIC KEY BLOCK-----\\n' +
    ARMOR_HEADERS +
    '\\n' +
    `(${ARMOR_BODY})` +
    `(?:${ARMOR_CHECKSUM})?` +
    '-----END PGP PUBLIC KEY BLOCK-----\\n?$',
  'u',
);

/** What a key block holds, as far as op-dbus needs to know. */
export interface PublicKeyInfo {
  /** The fingerprints of the primary keys in the block, upper-case hex, in block order. */
  fingerprints: string[];
}

export type KeyInspection = { ok: true; info: PublicKeyInfo } | { ok: false; problem: string };

/** OpenPGP packet tags that may appear in a transferable public key (RFC 4880 11.1, RFC 9580). */
const Tag = {
  signature: 2,
  secretKey: 5,
  publicKey: 6,
  secretSubkey: 7,
  trust: 12,
  userId: 13,
  publicSubkey: 14,
  userAttribute: 17,
  padding: 21,
} as const;
const PUBLIC_TAGS = new Set<number>([
  Tag.signature,
  Tag.publicKey,
  Tag.trust,
  Tag.userId,
  Tag.publicSubkey,
  Tag.userAttribute,
  Tag.padding,
]);

/** CRC-24 of the armor checksum line (RFC 4880 6.1). */
function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let bit = 0; bit < 8; bit++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

interface Packet {
  tag: number;
  body: Buffer;
}

/** Splits binary OpenPGP data into packets; throws a plain message on malformed data. */
function packets(data: Buffer): Packet[] {
  const result: Packet[] = [];
  let at = 0;
  while (at < data.length) {
    const header = data[at] as number;
    if ((header & 0x80) === 0) throw new Error(`byte ${at} is not a packet header`);
    let tag: number;
    let length: number;
    let start: number;
    if (header & 0x40) {
      tag = header & 0x3f;
      const first = data[at + 1];
      if (first === undefined) throw new Error('truncated packet header');
      if (first < 192) [length, start] = [first, at + 2];
      else if (first < 224)
        [length, start] = [((first - 192) << 8) + (data[at + 2] ?? 0) + 192, at + 3];
      else if (first === 255) [length, start] = [data.readUInt32BE(at + 2), at + 6];
      else throw new Error('partial body lengths are not allowed in a key');
    } else {
      tag = (header >> 2) & 0x0f;
      const lengthType = header & 0x03;
      if (lengthType === 3) throw new Error('indeterminate packet length');
      const size = 1 << lengthType;
      length = data.readUIntBE(at + 1, size);
      start = at + 1 + size;
    }
    if (start + length > data.length) throw new Error('truncated packet');
    result.push({ tag, body: data.subarray(start, start + length) });
    at = start + length;
  }
  return result;
}

/** v4: SHA-1 over 0x99, a two-octet length and the key packet; v6: SHA-256 with 0x9B and four octets. */
function fingerprint(body: Buffer): string {
  const version = body[0];
  if (version === 4) {
    const prefix = Buffer.from([0x99, (body.length >> 8) & 0xff, body.length & 0xff]);
    return createHash('sha1').update(prefix).update(body).digest('hex').toUpperCase();
  }
  if (version === 6) {
    const prefix = Buffer.alloc(5);
    prefix[0] = 0x9b;
    prefix.writeUInt32BE(body.length, 1);
    return createHash('sha256').update(prefix).update(body).digest('hex').toUpperCase();
  }
  throw new Error(`key version ${String(version)} is not supported (only 4 and 6)`);
}

/**
 * Checks what the schema's pattern cannot: the base64 decodes, the CRC matches,
 * the packets form public keys only (no secret key material), and gives the
 * primary keys' fingerprints. Pure; never runs gpg.
 */
export function inspectArmoredPublicKey(text: string): KeyInspection {
  const match = armorRegExp.exec(text);
  if (!match) return { ok: false, problem: 'is not an ASCII-armored OpenPGP public key block' };
  const base64 = (match[1] ?? '').replace(/\n/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/u.test(base64) || base64.length % 4 !== 0)
    return { ok: false, problem: 'the key block is not valid base64' };
  const data = Buffer.from(base64, 'base64');
  const checksum = match[2];
  if (checksum !== undefined && Buffer.from(checksum, 'base64').readUIntBE(0, 3) !== crc24(data))
    return { ok: false, problem: 'the key block fails its CRC-24 checksum (damaged in copying?)' };
  let parsed: Packet[];
  try {
    parsed = packets(data);
  } catch (err) {
    return { ok: false, problem: `the key block is malformed: ${(err as Error).message}` };
  }
  if (parsed.some((p) => p.tag === Tag.secretKey || p.tag === Tag.secretSubkey))
    return { ok: false, problem: 'the key block holds secret key material: give the public key' };
  const stranger = parsed.find((p) => !PUBLIC_TAGS.has(p.tag));
  if (stranger)
    return { ok: false, problem: `the key block holds a packet of type ${stranger.tag}` };
  if (parsed[0]?.tag !== Tag.publicKey)
    return { ok: false, problem: 'the key block does not start with a public key' };
  try {
    const fingerprints = parsed
      .filter((p) => p.tag === Tag.publicKey)
      .map((p) => fingerprint(p.body));
    return { ok: true, info: { fingerprints } };
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
}
