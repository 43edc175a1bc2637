import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key, as files and as bytes (for the etcd3 client). */
export interface CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** A throw-away certificate authority in a scratch folder, made with `openssl`. */
export interface TestPki {
  readonly caFile: string;
  readonly ca: Buffer;
  /** The certificate every member serves (client and peer URLs), for 127.0.0.1 and localhost. */
  readonly server: CertificatePair;
  /** A client certificate whose subject CN is `commonName` (etcd's user name when auth is on). */
  client(commonName: string): Promise<CertificatePair>;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${stderr ?? String(err)}`, { cause: err });
  }
}

async function pair(dir: string, name: string): Promise<CertificatePair> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}

/**
 * Makes a CA (EC P-256, one day) and a server certificate signed by it with
 * subjectAltName IP:127.0.0.1 and DNS:localhost, usable for both serverAuth and
 * clientAuth (members present it to each other on the peer URLs).
 */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.crt');
  const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...curve,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '1',
    '-subj',
    '/CN=op-dbus test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 1;
  const issue = async (name: string, subject: string, extensions: string[]): Promise<void> => {
    const csr = join(dir, `${name}.csr`);
    const extFile = join(dir, `${name}.ext`);
    await writeFile(extFile, `${extensions.join('\n')}\n`);
    await openssl([
      'req',
      '-new',
      ...curve,
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      csr,
      '-subj',
      subject,
    ]);
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-set_serial',
      String(serial++),
      '-days',
      '1',
      '-out',
      join(dir, `${name}.crt`),
      '-extfile',
      extFile,
    ]);
  };
  await issue('server', '/CN=etcd member', [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'extendedKeyUsage=serverAuth,clientAuth',
    'keyUsage=critical,digitalSignature,keyEncipherment',
  ]);
  return {
    caFile,
    ca: await readFile(caFile),
    server: await pair(dir, 'server'),
    async client(commonName) {
      const name = `client-${commonName.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
      await issue(name, `/CN=${commonName}`, [
        'extendedKeyUsage=clientAuth',
        'keyUsage=critical,digitalSignature,keyEncipherment',
      ]);
      return pair(dir, name);
    },
  };
}
