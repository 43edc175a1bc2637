import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allServices } from '../harness/all-services.js';
import { NM_BUS_OPTIONS, withNetworkManager } from '../harness/network-manager.js';
import { startStack, type Stack } from '../harness/stack.js';
import { runCli } from '../helpers/cli.js';
import { packagesDocument } from '../helpers/documents.js';
import { PLUGINS } from '../../src/plugins/registry.js';

describe('the op-dbus CLI against the real daemon', () => {
  let stack: Stack;
  let dir: string;
  before(async () => {
    // Every plugin's service runs, so `init --introspect` captures the whole machine.
    // NetworkManager too, so that init --introspect captures every plugin's section.
    stack = await startStack({
      bus: NM_BUS_OPTIONS,
      services: withNetworkManager(undefined, allServices()),
      daemonArgs: ['--no-drift-correction'],
    });
    dir = await mkdtemp(join(tmpdir(), 'opdbus-cli-'));
  });
  after(async () => stack?.stop());

  it('apply reads stdin, waits for the job, and exits 0 when everything converged', async () => {
    const run = await runCli(stack, ['apply'], packagesDocument({ glib2: 'installed' }));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Job done: 0 changed, 1 unchanged, 0 failed/);
    assert.match(run.stderr, /\[packagekit\] resolving/);
  });

  it('apply FILE exits 1 and names the resource when one failed', async () => {
    const file = join(dir, 'missing.json');
    await writeFile(file, packagesDocument({ glib2: 'installed', nosuchpackage: 'installed' }));
    const run = await runCli(stack, ['apply', file]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /Job failed: 0 changed, 1 unchanged, 1 failed/);
    assert.match(
      run.stdout,
      /packagekit\/nosuchpackage: failed \(unresolvable\): no package named 'nosuchpackage' in any repository PackageKit knows \[terminal\]/,
    );
  });

  it('apply --json prints the job result as JSON', async () => {
    const run = await runCli(
      stack,
      ['apply', '--json', '-'],
      packagesDocument({ glib2: 'installed' }),
    );
    assert.equal(run.code, 0);
    assert.deepEqual((JSON.parse(run.stdout) as { summary: object }).summary, {
      changed: 0,
      unchanged: 1,
      failed: 0,
    });
  });

  it('an invalid document exits 2 with the InvalidDocument error and its path', async () => {
    const run = await runCli(
      stack,
      ['apply'],
      '{"version":1,"plugins":{"packagekit":{"packages":{"x":{"ensure":"gone"}}}}}',
    );
    assert.equal(run.code, 2);
    assert.match(run.stderr, /org\.opdbus\.Error\.InvalidDocument/);
    assert.match(run.stderr, /\/plugins\/packagekit\/packages\/x\/ensure: must be one of/);
  });

  it('plan and its alias diff tell "no changes" apart from changes', async () => {
    const converged = join(dir, 'converged.json');
    await writeFile(converged, packagesDocument({ glib2: 'installed' }));
    const none = await runCli(stack, ['diff', converged]);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /No changes/);
    const changing = join(dir, 'changing.json');
    await writeFile(changing, packagesDocument({ 'vips-doc': 'installed' }));
    const some = await runCli(stack, ['plan', changing]);
    assert.match(
      some.stdout,
      /1 change\(s\):\n {2}packagekit\/vips-doc: install \(- -> ensure=installed version=7\.12\.4-2\.fc8\)/,
    );
    const json = await runCli(stack, ['plan', '--json', changing]);
    assert.deepEqual(JSON.parse(json.stdout), [
      {
        plugin: 'packagekit',
        resource: 'vips-doc',
        action: 'install',
        from: null,
        to: { ensure: 'installed', version: '7.12.4-2.fc8' },
      },
    ]);
    const missing = join(dir, 'missing-plan.json');
    await writeFile(missing, packagesDocument({ nosuchpackage: 'installed' }));
    const unresolvable = await runCli(stack, ['plan', missing]);
    assert.match(
      unresolvable.stdout,
      /packagekit\/nosuchpackage: unresolvable \(- -> -\): no package named 'nosuchpackage' in any repository/,
    );
  });

  it('query -p and init --introspect --output capture documents that re-apply with no change', async () => {
    const query = await runCli(stack, ['query', '-p', 'packagekit']);
    assert.equal(query.code, 0);
    const queried = JSON.parse(query.stdout) as {
      version: number;
      plugins: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(queried.plugins), ['packagekit']);
    const output = join(dir, 'captured.json');
    const init = await runCli(stack, ['init', '--introspect', '--output', output]);
    assert.equal(init.code, 0, init.stderr);
    const captured = JSON.parse(await readFile(output, 'utf8')) as {
      plugins: Record<string, unknown>;
    };
    assert.deepEqual(
      Object.keys(captured.plugins),
      PLUGINS.map((p) => p.name),
    );
    const plan = await runCli(stack, ['plan', '--json', output]);
    assert.equal(plan.code, 0, plan.stderr);
    const changes = (
      JSON.parse(plan.stdout) as { plugin: string; resource: string; action: string }[]
    ).filter((row) => row.action !== 'none');
    // The dummy backend lists 'update1' as installed but cannot resolve it: the one
    // known inconsistency of that fake backend. Everything else plans nothing.
    assert.deepEqual(
      changes.map((c) => `${c.plugin}/${c.resource}`),
      ['packagekit/update1'],
    );
  });

  it('status and verify report conditions and drift', async () => {
    const status = await runCli(stack, ['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /op-dbus 0\.1\.0: idle/);
    assert.match(status.stdout, /Ready {8}True/);
    await runCli(stack, ['apply'], packagesDocument({ glib2: 'installed' }));
    const after = await runCli(stack, ['status']);
    assert.match(after.stdout, /Ready {8}True {2}Serving: accepting documents on the bus/);
    assert.doesNotMatch(after.stdout, /no desired state/);
    const inSync = await runCli(stack, ['verify']);
    assert.equal(inSync.code, 0, inSync.stdout);
    assert.match(inSync.stdout, /In sync with desired generation \d+/);
    await runCli(stack, ['apply'], packagesDocument({ 'vips-doc': 'installed' }));
    const drifted = await runCli(stack, ['verify', '--json']);
    assert.equal(drifted.code, 1);
    const report = JSON.parse(drifted.stdout) as {
      inSync: boolean;
      drifted: { resource: string }[];
    };
    assert.deepEqual(
      report.drifted.map((d) => d.resource),
      ['vips-doc'],
    );
  });

  it('unknown commands and missing arguments exit 2 with help', async () => {
    const unknown = await runCli(stack, ['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const noFile = await runCli(stack, ['plan']);
    assert.equal(noFile.code, 2);
  });

  it('a daemon that is not running is a clear error, exit 2', async () => {
    const run = await runCli(stack, ['query'], '', {
      DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(dir, 'nobus')}`,
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /op-dbus: /);
  });
});
