// The showcase documents, shared by test/integration/showcase.test.ts and
// `npm run sandbox -- --backend apt --showcase`: what docs/examples/proxmox-ve.json
// does on a real Proxmox host, made offline against the local signed archive.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dpkgInstalled, dpkgKnows, restorePackageFully } from '../helpers/dpkg.js';
import { buildAptArchive, type AptArchive } from './apt-archive.js';
import { CLI } from './daemon.js';
import { packagekitAptConfig, type PackageKitAptConfig } from './packagekit-apt-config.js';

export const SHOWCASE_HOSTNAME = 'pve-01';

/** Repository (key embedded) + the meta-package + the user unit it ships + a hostname. */
export function showcaseDocument(archive: AptArchive, key = archive.key.armored): object {
  return {
    version: 1,
    plugins: {
      packagekit: {
        repositories: {
          pve: {
            uris: [archive.uri],
            suites: [archive.suite],
            components: [archive.component],
            signed_by: key,
          },
        },
        packages: { [archive.packageName]: { ensure: 'installed' } },
      },
      systemd: { units: { [archive.unitName]: { active_state: 'active', enabled: true } } },
      hostname: { static: SHOWCASE_HOSTNAME },
    },
  };
}

/** The way back: the repository's file removed, the meta-package removed. */
export function showcaseCleanupDocument(archive: AptArchive): object {
  return {
    version: 1,
    plugins: {
      packagekit: {
        repositories: { pve: { ensure: 'absent' } },
        packages: { [archive.packageName]: { ensure: 'removed' } },
      },
    },
  };
}

/** What `npm run sandbox -- --backend apt --showcase` needs beyond the usual stack. */
export interface ShowcaseSetup {
  archive: AptArchive;
  apt: PackageKitAptConfig;
  /** The documents, written as files a newcomer can read and apply again. */
  documentPath: string;
  cleanupPath: string;
  /** Commands to look at what op-dbus did, for the given systemctl prefix. */
  howToLook(systemctl: string): string;
  /** Removes the archive and the private apt folder; puts back packages the showcase pulled in. */
  teardown(): Promise<void>;
}

export async function prepareShowcase(): Promise<ShowcaseSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'opdbus-showcase-'));
  const archive = await buildAptArchive();
  const apt = await packagekitAptConfig();
  const names = [archive.packageName, ...archive.depends];
  const before = new Map(
    names.map((name) => [name, { installed: dpkgInstalled(name), known: dpkgKnows(name) }]),
  );
  const documentPath = join(dir, 'showcase.json');
  const cleanupPath = join(dir, 'showcase-cleanup.json');
  await writeFile(documentPath, `${JSON.stringify(showcaseDocument(archive), null, 2)}\n`);
  await writeFile(cleanupPath, `${JSON.stringify(showcaseCleanupDocument(archive), null, 2)}\n`);
  return {
    archive,
    apt,
    documentPath,
    cleanupPath,
    howToLook: (systemctl) => `
What the showcase did (one Apply of ${documentPath}):
  - wrote ${join(apt.sourcesDir, 'op-dbus-pve.sources')} (the repository, its key embedded),
  - refreshed PackageKit's package lists once, found ${archive.packageName} in the local
    signed archive (${archive.uri}, standing in for Proxmox's) and installed it with
    ${archive.depends.join(' and ')} (really installed on this machine: Ctrl-C removes them),
  - started and enabled ${archive.unitName} (a user unit the package ships),
  - set the static hostname to ${SHOWCASE_HOSTNAME} (hostnamed in its own namespace).
PackageKit runs with a private apt configuration, so the host's /etc/apt is not
touched: APT_CONFIG=${apt.configFile}

Look at it (in the shell where DBUS_SYSTEM_BUS_ADDRESS is exported, as above):
  cat ${join(apt.sourcesDir, 'op-dbus-pve.sources')}
  dpkg-query -W ${archive.packageName} ${archive.depends.join(' ')}
  APT_CONFIG=${apt.configFile} apt-cache policy ${archive.packageName}
  ${systemctl} status ${archive.unitName}
  busctl --system get-property org.freedesktop.hostname1 /org/freedesktop/hostname1 org.freedesktop.hostname1 StaticHostname
  node ${CLI} plan ${documentPath}   (no changes: converged)
  rm ${join(apt.sourcesDir, 'op-dbus-pve.sources')}   (drift: op-dbus writes it back)
  node ${CLI} apply ${cleanupPath}   (repository and package removed)`,
    async teardown() {
      for (const [name, state] of before) restorePackageFully(name, state);
      await apt.cleanup();
      await archive.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
