import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTestPki, type CertificatePair, type TestPki } from './etcd-pki.js';
import { start, waitFor, type ManagedProcess } from './processes.js';

const run = promisify(execFile);

export interface EtcdClusterOptions {
  /** Members (default 3). */
  members?: number;
  /** TLS on client and peer URLs, client certificates required (`--client-cert-auth`). */
  tls?: boolean;
  /** etcd auth on: a `root` user with a password; users and roles via `etcdctl`. */
  auth?: boolean;
  /**
   * Folder for the scratch folder (default the system's temporary folder). `/dev/shm`
   * takes fsync out of the figures: on this project's VMs a put costs ~28 ms on disk.
   */
  dataIn?: string;
}

/** A grant for `etcdctl role grant-permission`: a key, or every key under a prefix. */
export interface PermissionGrant {
  readonly access: 'read' | 'write' | 'readwrite';
  readonly key: string;
  readonly prefix: boolean;
}

/**
 * A real etcd cluster of separate `etcd` processes on 127.0.0.1 only: distinct
 * client and peer ports, one data folder each under a scratch folder.
 */
export interface EtcdCluster {
  readonly dir: string;
  /** Client URLs (`http://` or `https://127.0.0.1:PORT`), one per member. */
  readonly endpoints: readonly string[];
  /** With `tls`: the CA and a way to make client certificates. */
  readonly pki: TestPki | undefined;
  /** With `auth`: root's password (root may do anything). */
  readonly rootPassword: string | undefined;
  /** With `tls`: root's client certificate (etcdctl uses it). */
  readonly rootCertificate: CertificatePair | undefined;
  /** `etcdctl` as root against every running member; resolves its stdout. */
  etcdctl(...args: string[]): Promise<string>;
  /** Index of the current leader (from `etcdctl endpoint status`). */
  leader(): Promise<number>;
  /** SIGKILL the leader, wait until the others have a new one; resolves the old one's index. */
  killLeader(): Promise<number>;
  /** SIGKILL one member. */
  killMember(index: number): Promise<void>;
  /** SIGKILL every member: etcd unreachable. */
  killAll(): Promise<void>;
  /** Start a killed member again on its data folder and wait until it answers. */
  restartMember(index: number): Promise<void>;
  /** Start every killed member at once (one alone has no quorum and never becomes healthy). */
  restartAll(): Promise<void>;
  /** The cluster's current revision. */
  revision(): Promise<number>;
  /** `etcdctl compact REV --physical` (default: the current revision). Resolves the revision. */
  compact(revision?: number): Promise<number>;
  addRole(name: string, grants: readonly PermissionGrant[]): Promise<void>;
  addUser(name: string, password: string, roles: readonly string[]): Promise<void>;
  /** Stops every member and removes the scratch folder. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1 (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const ctlEnv = { ETCDCTL_API: '3', PATH: process.env.PATH ?? '/usr/bin:/bin' };

function tlsCredentials(pki: TestPki, certificate: CertificatePair): string[] {
  return [
    `--cacert=${pki.caFile}`,
    `--cert=${certificate.certFile}`,
    `--key=${certificate.keyFile}`,
  ];
}

interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  process?: ManagedProcess;
}

export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const count = options.members ?? 3;
  const dir = await mkdtemp(join(options.dataIn ?? tmpdir(), 'opdbus-etcd-'));
  const scheme = options.tls ? 'https' : 'http';
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const name = `m${i + 1}`;
    const [client, peer] = [await freePort(), await freePort()];
    members.push({
      name,
      clientUrl: `${scheme}://127.0.0.1:${client}`,
      peerUrl: `${scheme}://127.0.0.1:${peer}`,
      dataDir: join(dir, name),
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  let pki: TestPki | undefined;
  let rootCertificate: CertificatePair | undefined;
  const rootPassword = options.auth ? `root-${process.pid}-${Date.now()}` : undefined;
  let authEnabled = false;

  const tlsArgs = (): string[] => {
    if (!pki) return [];
    const { server, caFile } = pki;
    return [
      `--cert-file=${server.certFile}`,
      `--key-file=${server.keyFile}`,
      `--trusted-ca-file=${caFile}`,
      '--client-cert-auth',
      `--peer-cert-file=${server.certFile}`,
      `--peer-key-file=${server.keyFile}`,
      `--peer-trusted-ca-file=${caFile}`,
      '--peer-client-cert-auth',
    ];
  };

  const launch = (member: Member, state: 'new' | 'existing'): void => {
    member.process = start(
      `etcd ${member.name}`,
      'etcd',
      [
        `--name=${member.name}`,
        `--data-dir=${member.dataDir}`,
        `--listen-client-urls=${member.clientUrl}`,
        `--advertise-client-urls=${member.clientUrl}`,
        `--listen-peer-urls=${member.peerUrl}`,
        `--initial-advertise-peer-urls=${member.peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-state=${state}`,
        `--initial-cluster-token=opdbus-test-${process.pid}`,
        '--heartbeat-interval=50',
        '--election-timeout=500',
        '--logger=zap',
        '--log-level=warn',
        ...tlsArgs(),
      ],
      { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    );
  };

  const running = (): Member[] => members.filter((m) => m.process?.running === true);

  const etcdctl = async (...args: string[]): Promise<string> => {
    const endpoints = running().map((m) => m.clientUrl);
    const credentials: string[] = [];
    if (pki && rootCertificate) credentials.push(...tlsCredentials(pki, rootCertificate));
    if (authEnabled && rootPassword && !pki) credentials.push(`--user=root:${rootPassword}`);
    try {
      const { stdout } = await run(
        'etcdctl',
        [`--endpoints=${endpoints.join(',')}`, '--command-timeout=10s', ...credentials, ...args],
        { env: ctlEnv, timeout: 30_000 },
      );
      return stdout;
    } catch (err) {
      const { stderr } = err as { stderr?: string };
      throw new Error(`etcdctl ${args.join(' ')} failed: ${stderr ?? String(err)}`, { cause: err });
    }
  };

  const answers = async (member: Member): Promise<boolean> => {
    if (!member.process?.running) {
      throw new Error(`${member.name} exited: ${member.process?.output.join('').slice(-2000)}`);
    }
    const credentials = pki && rootCertificate ? tlsCredentials(pki, rootCertificate) : [];
    // etcdctl prints "is healthy" on stderr.
    const { stderr } = await run(
      'etcdctl',
      [`--endpoints=${member.clientUrl}`, ...credentials, 'endpoint', 'health'],
      { env: ctlEnv, timeout: 10_000 },
    ).catch(() => ({ stderr: '' }));
    return stderr.includes('is healthy');
  };

  const status = async (): Promise<{ index: number; leader: string; member: string }[]> => {
    const out = JSON.parse(await etcdctl('endpoint', 'status', '-w', 'json')) as {
      Endpoint: string;
      Status: { header: { member_id: number | string }; leader: number | string };
    }[];
    return out.map((entry) => ({
      index: members.findIndex((m) => m.clientUrl === entry.Endpoint),
      leader: String(entry.Status.leader),
      member: String(entry.Status.header.member_id),
    }));
  };

  const leader = async (): Promise<number> => {
    let found = -1;
    await waitFor('an etcd leader', async () => {
      const entries = await status();
      found = entries.find((e) => e.member === e.leader && e.leader !== '0')?.index ?? -1;
      return found >= 0;
    });
    return found;
  };

  const killMember = async (index: number): Promise<void> => {
    const member = members[index];
    if (!member?.process?.running) return;
    member.process.kill('SIGKILL');
    await member.process.exited;
  };

  const currentRevision = async (): Promise<number> => {
    const out = JSON.parse(await etcdctl('get', '/', '--prefix', '--keys-only', '-w', 'json')) as {
      header: { revision: number };
    };
    return out.header.revision;
  };

  // Members run in their own process group (start()): if this process exits without
  // stop() (an uncaught error), take them along rather than leave a cluster behind.
  const killOnExit = (): void => {
    for (const member of members) if (member.process?.running) member.process.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await Promise.all(members.map((m) => m.process?.stop(2_000) ?? Promise.resolve(null)));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    if (options.tls) {
      const pkiDir = join(dir, 'pki');
      await mkdir(pkiDir);
      pki = await makeTestPki(pkiDir);
      rootCertificate = await pki.client('root');
    }
    for (const member of members) launch(member, 'new');
    for (const member of members) await waitFor(`${member.name} healthy`, () => answers(member));
    if (rootPassword) {
      await etcdctl('user', 'add', 'root', `--new-user-password=${rootPassword}`);
      await etcdctl('user', 'grant-role', 'root', 'root');
      await etcdctl('auth', 'enable');
      authEnabled = true;
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    dir,
    endpoints: members.map((m) => m.clientUrl),
    pki,
    rootPassword,
    rootCertificate,
    etcdctl,
    leader,
    async killLeader() {
      const index = await leader();
      await killMember(index);
      // Writes time out until the survivors have elected a new leader.
      await leader();
      return index;
    },
    killMember,
    async killAll() {
      for (let i = 0; i < members.length; i++) await killMember(i);
    },
    async restartMember(index) {
      const member = members[index];
      if (!member) throw new Error(`no member ${index}`);
      if (member.process?.running) return;
      launch(member, 'existing');
      await waitFor(`${member.name} healthy again`, () => answers(member), 30_000);
    },
    async restartAll() {
      const stopped = members.filter((m) => !m.process?.running);
      for (const member of stopped) launch(member, 'existing');
      for (const member of stopped) {
        await waitFor(`${member.name} healthy again`, () => answers(member), 30_000);
      }
    },
    revision: currentRevision,
    async compact(revision) {
      const target = revision ?? (await currentRevision());
      await etcdctl('compact', String(target), '--physical');
      return target;
    },
    async addRole(name, grants) {
      await etcdctl('role', 'add', name);
      for (const grant of grants) {
        const prefix = grant.prefix ? ['--prefix=true'] : [];
        await etcdctl('role', 'grant-permission', ...prefix, name, grant.access, grant.key);
      }
    },
    async addUser(name, password, roles) {
      await etcdctl('user', 'add', name, `--new-user-password=${password}`);
      for (const role of roles) await etcdctl('user', 'grant-role', name, role);
    },
    stop,
  };
}
