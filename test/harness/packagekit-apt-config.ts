// apt as packagekitd sees it in the showcase: the host's dpkg, apt.conf.d,
// trusted keys and Debian sources, but a private sources folder, a private copy
// of the host's package lists and a private cache (APT_CONFIG). Repositories
// op-dbus adds, and every refresh, land in the scratch folder; the host's
// /etc/apt and /var/lib/apt stay as they were. Packages are installed for real
// (dpkg is the host's).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOST_SOURCES_DIR = '/etc/apt/sources.list.d';
const HOST_LISTS_DIR = '/var/lib/apt/lists';
/** The host's main list: read as it is (the daemon only looks at it for duplicates). */
export const HOST_SOURCES_LIST = '/etc/apt/sources.list';

export interface PackageKitAptConfig {
  dir: string;
  /** The APT_CONFIG file: give it to packagekitd's environment. */
  configFile: string;
  /** Where op-dbus writes its .sources files (the packagekit plugin's sourcesDir). */
  sourcesDir: string;
  /** apt's lists (the packagekit plugin's listsDir). */
  listsDir: string;
  /** packagekitd's environment additions. */
  env: Record<string, string>;
  /** The daemon's plugin settings that point at the same folders. */
  daemonArgs: string[];
  /** `apt-cache policy NAME` with this configuration, as someone else would look. */
  policy(packageName: string): string;
  cleanup(): Promise<void>;
}

/** Files apt reads in sources.list.d (it skips *.disabled-by-farm and the like). */
const APT_SOURCES_FILE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(list|sources)$/u;

export async function packagekitAptConfig(): Promise<PackageKitAptConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'opdbus-pk-apt-'));
  // apt drops to the _apt user to fetch: it must be able to enter the folders.
  await chmod(dir, 0o755);
  const sourcesDir = join(dir, 'sources.list.d');
  const listsDir = join(dir, 'lists');
  const cacheDir = join(dir, 'cache');
  mkdirSync(sourcesDir);
  mkdirSync(join(cacheDir, 'archives', 'partial'), { recursive: true });
  // The host's enabled sources (Debian's archive: the demo package's dependencies come from it).
  for (const name of readdirSync(HOST_SOURCES_DIR)) {
    if (APT_SOURCES_FILE.test(name)) cpSync(join(HOST_SOURCES_DIR, name), join(sourcesDir, name));
  }
  cpSync(HOST_LISTS_DIR, listsDir, {
    recursive: true,
    filter: (source) => !source.endsWith('/lock'),
  });
  mkdirSync(join(listsDir, 'partial'), { recursive: true });
  const configFile = join(dir, 'apt.conf');
  writeFileSync(
    configFile,
    [
      `Dir::Etc::SourceParts "${sourcesDir}";`,
      `Dir::State::Lists "${listsDir}";`,
      `Dir::Cache "${cacheDir}";`,
      `Dir::Cache::Archives "${join(cacheDir, 'archives')}";`,
      '',
    ].join('\n'),
  );
  const env = { APT_CONFIG: configFile };
  return {
    dir,
    configFile,
    sourcesDir,
    listsDir,
    env,
    daemonArgs: [
      '--plugin-option',
      `packagekit.sourcesDir=${sourcesDir}`,
      '--plugin-option',
      `packagekit.listsDir=${listsDir}`,
    ],
    policy(packageName) {
      const result = spawnSync('apt-cache', ['policy', packageName], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...env },
        encoding: 'utf8',
      });
      return `${result.stdout}${result.stderr}`;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
