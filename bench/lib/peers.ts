import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Workload } from './workload.js';

const execFileAsync = promisify(execFile);

/** The peers as Debian ships them; installed by the bench when missing (the only install it makes). */
const PEER_PACKAGES = ['ansible-core', 'puppet'];

function installed(name: string): boolean {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

export function ensurePeers(log: (line: string) => void): void {
  const missing = PEER_PACKAGES.filter((name) => !installed(name));
  if (missing.length === 0) return;
  log(`installing the peers: ${missing.join(', ')} (apt-get, once)`);
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

export function peerVersions(): Record<string, string> {
  const version = (name: string): string =>
    spawnSync('dpkg-query', ['-W', '-f=${Version}', name], { encoding: 'utf8' }).stdout;
  return Object.fromEntries(PEER_PACKAGES.map((name) => [name, version(name)]));
}

/** Where the peers find the systemd user manager (units live there, as for op-dbus). */
export type UserManagerEnv = Record<string, string>;

export interface PeerRun {
  /** Whether the run reported no change (a true no-op). */
  unchanged: boolean;
}

/**
 * ansible-playbook, connection local, one apt task with the whole list and one
 * systemd task (scope user) looping over the units. Facts are not gathered
 * (the apt and systemd modules need none), which only makes Ansible faster.
 */
export function ansibleRunner(workload: Workload, env: UserManagerEnv): () => Promise<PeerRun> {
  const dir = mkdtempSync(join(tmpdir(), 'opdbus-bench-ansible-'));
  const tasks: unknown[] = [];
  if (workload.packages.length > 0)
    tasks.push({
      name: 'packages',
      'ansible.builtin.apt': { name: workload.packages, state: 'present' },
    });
  if (workload.units.length > 0)
    tasks.push({
      name: 'units',
      'ansible.builtin.systemd': {
        name: '{{ item }}',
        state: 'started',
        enabled: true,
        scope: 'user',
      },
      loop: workload.units,
    });
  const playbook = join(dir, 'playbook.yml');
  // JSON is YAML: no YAML library needed.
  writeFileSync(
    playbook,
    JSON.stringify([{ hosts: 'localhost', connection: 'local', gather_facts: false, tasks }]),
  );
  return async () => {
    const { stdout } = await execFileAsync(
      'ansible-playbook',
      ['-i', 'localhost,', '-c', 'local', playbook],
      {
        env: {
          ...process.env,
          ...env,
          ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_RETRY_FILES_ENABLED: '0',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return { unchanged: /changed=0\s/.test(stdout) && /failed=0\s/.test(stdout) };
  };
}

/**
 * puppet apply with one package resource per name. Puppet's systemd provider
 * cannot reach a user manager, so units use the base provider with
 * `systemctl --user` commands (running state only: base cannot enable).
 */
export function puppetRunner(workload: Workload, env: UserManagerEnv): () => Promise<PeerRun> {
  const dir = mkdtempSync(join(tmpdir(), 'opdbus-bench-puppet-'));
  const lines: string[] = [];
  if (workload.packages.length > 0)
    lines.push(
      `package { [${workload.packages.map((n) => `'${n}'`).join(', ')}]: ensure => installed }`,
    );
  for (const unit of workload.units) {
    lines.push(
      `service { '${unit}': ensure => running, provider => base, ` +
        `start => '/bin/systemctl --user start ${unit}', stop => '/bin/systemctl --user stop ${unit}', ` +
        `status => '/bin/systemctl --user is-active --quiet ${unit}' }`,
    );
  }
  const manifest = join(dir, 'site.pp');
  writeFileSync(manifest, `${lines.join('\n')}\n`);
  return async () => {
    const result = await execFileAsync(
      'puppet',
      ['apply', '--detailed-exitcodes', '--color=false', manifest],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
    ).then(
      () => 0,
      (err: { code?: number }) => err.code ?? 1,
    );
    // --detailed-exitcodes: 0 = nothing changed, 2 = changes, 4/6 = failures.
    if (result !== 0 && result !== 2) throw new Error(`puppet apply exited ${result}`);
    return { unchanged: result === 0 };
  };
}
