import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * apt with a configuration of its own (APT_CONFIG): its own sources folder,
 * lists, cache, status and trusted keys, and none of the host's apt.conf.d,
 * sources or keys. Runs `apt-get update` and `apt-cache policy` as "someone
 * else" would, to prove what apt itself makes of the files op-dbus writes.
 * Changes nothing of the host's apt state.
 */
export interface PrivateApt {
  dir: string;
  sourcesDir: string;
  listsDir: string;
  update(): { status: number | null; output: string };
  policy(packageName: string): string;
  cleanup(): Promise<void>;
}

export async function privateApt(): Promise<PrivateApt> {
  const dir = await mkdtemp(join(tmpdir(), 'opdbus-apt-'));
  await chmod(dir, 0o755);
  const sourcesDir = join(dir, 'sources.list.d');
  const listsDir = join(dir, 'lists');
  for (const sub of [
    sourcesDir,
    join(listsDir, 'partial'),
    join(dir, 'cache/archives/partial'),
    join(dir, 'apt.conf.d'),
    join(dir, 'preferences.d'),
    join(dir, 'trusted.gpg.d'),
  ])
    mkdirSync(sub, { recursive: true });
  writeFileSync(join(dir, 'status'), '');
  const config = join(dir, 'apt.conf');
  // Read before the host's apt.conf.d (pkgInitConfig reads APT_CONFIG first), so Parts takes effect.
  writeFileSync(
    config,
    [
      `Dir::Etc::Parts "${join(dir, 'apt.conf.d')}";`,
      'Dir::Etc::Main "/dev/null";',
      'Dir::Etc::SourceList "/dev/null";',
      `Dir::Etc::SourceParts "${sourcesDir}";`,
      'Dir::Etc::Preferences "/dev/null";',
      `Dir::Etc::PreferencesParts "${join(dir, 'preferences.d')}";`,
      'Dir::Etc::Trusted "/dev/null";',
      `Dir::Etc::TrustedParts "${join(dir, 'trusted.gpg.d')}";`,
      `Dir::State::Lists "${listsDir}";`,
      `Dir::State::status "${join(dir, 'status')}";`,
      `Dir::Cache "${join(dir, 'cache')}";`,
      'Acquire::Languages "none";',
      '',
    ].join('\n'),
  );
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', APT_CONFIG: config };
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { env, encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };
  return {
    dir,
    sourcesDir,
    listsDir,
    update: () => run('apt-get', ['-q', 'update']),
    policy: (packageName) => run('apt-cache', ['policy', packageName]).output,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
