// A local signed apt archive that stands in for Proxmox's: made offline with
// dpkg-deb, apt-ftparchive (apt-utils) and gpg under a throwaway GNUPGHOME, in
// a scratch folder. Never touches ~/.gnupg or the host's apt configuration.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A signing key: armored (for an embedded Signed-By), and as binary and armored (.asc) keyring files. */
export interface ArchiveKey {
  armored: string;
  keyringPath: string;
  armoredPath: string;
  fingerprint: string;
}

export interface AptArchive {
  /** The scratch folder holding everything (0755, so apt's _apt user can read it). */
  dir: string;
  /** `file:///…/archive`: a classic archive with dists/<suite>/<component>. */
  uri: string;
  suite: string;
  component: string;
  /** The same package as a flat repository: `file:///…/flat` with suite `./`, no components. */
  flat: { uri: string; suite: string };
  /** The meta-package, its version and the Debian packages it depends on. */
  packageName: string;
  version: string;
  depends: string[];
  /** The unit it ships, as a system unit and as a user unit. */
  unitName: string;
  systemUnitPath: string;
  userUnitPath: string;
  /** The key that signs the archive. */
  key: ArchiveKey;
  /** An unrelated key, for "the wrong key" tests. */
  wrongKey: ArchiveKey;
  /** Stops the gpg agents and removes the folder. */
  cleanup(): Promise<void>;
}

export interface AptArchiveOptions {
  suite?: string;
  component?: string;
  packageName?: string;
  version?: string;
  /** Small Debian packages from the configured Debian archive, not installed here. */
  depends?: string[];
}

const UNIT = (wantedBy: string) =>
  '[Unit]\nDescription=op-dbus demo (stands in for a Proxmox VE service)\n\n' +
  `[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=${wantedBy}\n`;

function run(
  command: string,
  args: string[],
  options: { cwd?: string; gnupg?: string } = {},
): string {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  if (options.gnupg) env.GNUPGHOME = options.gnupg;
  return execFileSync(command, args, {
    cwd: options.cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const GPG_BATCH = [
  '--batch',
  '--quiet',
  '--no-tty',
  '--pinentry-mode',
  'loopback',
  '--passphrase',
  '',
];

/** A fresh key without passphrase in its own GNUPGHOME, exported to `keysDir`. */
function makeKey(gnupg: string, keysDir: string, label: string): ArchiveKey {
  mkdirSync(gnupg, { mode: 0o700 });
  run(
    'gpg',
    [
      ...GPG_BATCH,
      '--quick-gen-key',
      `op-dbus ${label} <${label}@op-dbus.invalid>`,
      'ed25519',
      'sign',
      'never',
    ],
    { gnupg },
  );
  const armored = run('gpg', ['--batch', '--armor', '--export'], { gnupg });
  const keyringPath = join(keysDir, `${label}.gpg`);
  run('gpg', ['--batch', '--output', keyringPath, '--export'], { gnupg });
  const armoredPath = join(keysDir, `${label}.asc`);
  writeFileSync(armoredPath, armored);
  const fingerprint = /^fpr:+([0-9A-F]{40,64}):/mu.exec(
    run('gpg', ['--batch', '--with-colons', '--list-keys'], { gnupg }),
  )?.[1];
  if (!fingerprint) throw new Error(`gpg listed no fingerprint for the ${label} key`);
  return { armored, keyringPath, armoredPath, fingerprint };
}

/** Release (apt-ftparchive) and InRelease (clearsigned) for the index files under `dir`. */
function signRelease(dir: string, fields: Record<string, string>, gnupg: string): void {
  const options = Object.entries(fields).flatMap(([name, value]) => [
    '-o',
    `APT::FTPArchive::Release::${name}=${value}`,
  ]);
  // Generated to stdout first: apt-ftparchive would otherwise hash a half-written Release.
  const release = run('apt-ftparchive', [...options, 'release', '.'], { cwd: dir });
  writeFileSync(join(dir, 'Release'), release);
  run(
    'gpg',
    [
      ...GPG_BATCH,
      '--yes',
      '--clearsign',
      '--output',
      join(dir, 'InRelease'),
      join(dir, 'Release'),
    ],
    { gnupg },
  );
}

function buildPackage(
  buildDir: string,
  debPath: string,
  name: string,
  version: string,
  depends: string[],
): void {
  const root = join(buildDir, name);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'lib/systemd/system'), { recursive: true });
  mkdirSync(join(root, 'usr/lib/systemd/user'), { recursive: true });
  writeFileSync(
    join(root, 'DEBIAN/control'),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\n` +
      'Maintainer: op-dbus tests <tests@op-dbus.invalid>\n' +
      `Depends: ${depends.join(', ')}\nSection: misc\nPriority: optional\n` +
      'Description: op-dbus demo meta-package (stands in for proxmox-ve)\n' +
      " Built offline by op-dbus's test harness from a throwaway signed archive.\n",
  );
  writeFileSync(join(root, `lib/systemd/system/${name}.service`), UNIT('multi-user.target'));
  writeFileSync(join(root, `usr/lib/systemd/user/${name}.service`), UNIT('default.target'));
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, debPath]);
}

/** Builds the archive; about half a second, fully offline. */
export async function buildAptArchive(options: AptArchiveOptions = {}): Promise<AptArchive> {
  const suite = options.suite ?? 'bookworm';
  const component = options.component ?? 'pve-no-subscription';
  const packageName = options.packageName ?? 'opdbus-demo-ve';
  const version = options.version ?? '1.0-1';
  const depends = options.depends ?? ['sl', 'figlet'];
  const dir = await mkdtemp(join(tmpdir(), 'opdbus-archive-'));
  await chmod(dir, 0o755);
  const gnupgHomes = [join(dir, 'gnupg'), join(dir, 'gnupg-other')];
  const cleanup = async (): Promise<void> => {
    for (const gnupg of gnupgHomes) {
      try {
        run('gpgconf', ['--kill', 'gpg-agent'], { gnupg });
        run('gpgconf', ['--remove-socketdir'], { gnupg });
      } catch {
        // never started, or already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [gnupg, otherGnupg] = gnupgHomes as [string, string];
    const keysDir = join(dir, 'keys');
    mkdirSync(keysDir, { mode: 0o755 });
    const key = makeKey(gnupg, keysDir, 'archive');
    const wrongKey = makeKey(otherGnupg, keysDir, 'unrelated');

    const arch = run('dpkg', ['--print-architecture']).trim();
    const debName = `${packageName}_${version}_all.deb`;
    const archive = join(dir, 'archive');
    const pool = join(archive, 'pool', component);
    const binaryDir = join(archive, 'dists', suite, component, `binary-${arch}`);
    mkdirSync(pool, { recursive: true });
    mkdirSync(binaryDir, { recursive: true });
    buildPackage(join(dir, 'build'), join(pool, debName), packageName, version, depends);
    writeFileSync(
      join(binaryDir, 'Packages'),
      run('apt-ftparchive', ['packages', 'pool'], { cwd: archive }),
    );
    const release = {
      Origin: 'op-dbus-test',
      Label: 'op-dbus test archive',
      Suite: suite,
      Codename: suite,
    };
    signRelease(
      join(archive, 'dists', suite),
      { ...release, Components: component, Architectures: arch },
      gnupg,
    );

    const flat = join(dir, 'flat');
    mkdirSync(flat);
    copyFileSync(join(pool, debName), join(flat, debName));
    writeFileSync(join(flat, 'Packages'), run('apt-ftparchive', ['packages', '.'], { cwd: flat }));
    signRelease(flat, release, gnupg);

    // The agents are only needed while signing; cleanup() kills them again if a caller signs more.
    for (const home of gnupgHomes) run('gpgconf', ['--kill', 'gpg-agent'], { gnupg: home });
    return {
      dir,
      uri: `file://${archive}`,
      suite,
      component,
      flat: { uri: `file://${flat}`, suite: './' },
      packageName,
      version,
      depends,
      unitName: `${packageName}.service`,
      systemUnitPath: `/lib/systemd/system/${packageName}.service`,
      userUnitPath: `/usr/lib/systemd/user/${packageName}.service`,
      key,
      wrongKey,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
