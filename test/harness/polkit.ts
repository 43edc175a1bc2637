import { execFileSync } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nameHasOwner } from './packagekit.js';
import { start, waitFor, type ManagedProcess } from './processes.js';
import type { SystemBus } from './system-bus.js';

const POLICY = fileURLToPath(new URL('../../dbus-interfaces/org.opdbus.policy', import.meta.url));

/**
 * The real polkitd on the private bus, started before anything activates it, in
 * its own mount namespace where op-dbus's actions and the test's rules are
 * overlaid on /usr/share/polkit-1 and /etc/polkit-1: the host is never changed.
 * It switches to the polkitd user itself, as the bus policy requires to own its name.
 */
export async function startPolkit(
  bus: SystemBus,
  rules: string,
): Promise<{ process: ManagedProcess; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(bus.dir, 'polkit-'));
  const actions = join(dir, 'share', 'actions');
  const rulesDir = join(dir, 'etc', 'rules.d');
  await mkdir(actions, { recursive: true });
  await mkdir(rulesDir, { recursive: true });
  await copyFile(POLICY, join(actions, 'org.opdbus.policy'));
  await writeFile(join(rulesDir, '50-opdbus-test.rules'), rules);
  const polkitd = execFileSync('id', ['-u', 'polkitd'], { encoding: 'utf8' }).trim();
  for (const path of [dir, join(dir, 'share'), actions, join(dir, 'etc'), rulesDir])
    await chmod(path, 0o755);
  await chown(join(rulesDir, '50-opdbus-test.rules'), Number(polkitd), 0);
  const script = [
    `mount -t overlay overlay -o lowerdir=${join(dir, 'share')}:/usr/share/polkit-1 /usr/share/polkit-1`,
    `mount -t overlay overlay -o lowerdir=${join(dir, 'etc')}:/etc/polkit-1 /etc/polkit-1`,
    // polkitd drops to its own user by itself (as it does when the bus activates it).
    'exec /usr/lib/polkit-1/polkitd --no-debug',
  ].join(' && ');
  const process = start(
    'polkitd',
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script],
    bus.env,
  );
  await waitFor('polkitd to own its name', async () => {
    if (!process.running) throw new Error(`polkitd exited: ${process.output.join('')}`);
    return nameHasOwner(bus, 'org.freedesktop.PolicyKit1');
  });
  return {
    process,
    async stop() {
      await process.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
