import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { callMethod, getProperty } from '../../src/dbus/bus.js';
import type { ChangeScope } from '../../src/engine/plugin.js';
import { ErrorName } from '../../src/errors.js';
import { hostnamePlugin } from '../../src/plugins/hostname/index.js';
import { localePlugin } from '../../src/plugins/locale/index.js';
import { timedatePlugin } from '../../src/plugins/timedate/index.js';
import { enginePlugin, testHost } from '../helpers/plugin-host.js';
import {
  snapshotHost,
  startHostServices,
  type HostService,
  type HostServiceName,
  type HostSnapshot,
} from '../harness/host-services.js';
import { waitFor } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import { errorOf, jobIdOf, SignalRecorder } from '../helpers/bus-client.js';

const run = promisify(execFile);

interface JobResultJson {
  summary: { changed: number; unchanged: number; failed: number };
  resources: { plugin: string; resource: string; outcome: string; error?: string }[];
}

const SERVICE = {
  hostname: 'org.freedesktop.hostname1',
  timedate: 'org.freedesktop.timedate1',
  locale: 'org.freedesktop.locale1',
} as const;

type ServiceKey = keyof typeof SERVICE;

const doc = (plugins: object): string => JSON.stringify({ version: 1, plugins });

// C.UTF-8 and C exist on every Debian 12 machine: localed need not generate them.
const EXAMPLE = doc({
  hostname: { static: 'web-01', pretty: 'Web server 1' },
  timedate: { timezone: 'Europe/Oslo' },
  locale: { LANG: 'C.UTF-8', LC_TIME: 'C' },
});

describe('hostname, timedate and locale through the real hostnamed, timedated and localed', () => {
  let stack: Stack;
  let services: Record<HostServiceName, HostService>;
  let recorder: SignalRecorder;
  let hostBefore: HostSnapshot;

  before(async () => {
    hostBefore = await snapshotHost();
    stack = await startStack({
      backend: 'none',
      services: async (bus) => {
        const started = await startHostServices(bus);
        services = started.services;
        return { stoppables: started.stoppables };
      },
    });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
  });

  function property(key: ServiceKey, name: string): Promise<unknown> {
    const busName = SERVICE[key];
    const path = `/${busName.replaceAll('.', '/')}`;
    return getProperty(stack.clientBus, busName, path, busName, name);
  }

  /** What another administrator would do: busctl against the same bus. */
  function busctl(key: ServiceKey, ...args: string[]): Promise<unknown> {
    const busName = SERVICE[key];
    const path = `/${busName.replaceAll('.', '/')}`;
    return run('busctl', ['--system', 'call', busName, path, busName, ...args], {
      env: stack.bus.env,
    });
  }

  async function applyAndWait(text: string): Promise<{ state: string; result: JobResultJson }> {
    const path = await stack.client.apply(text);
    const removed = await recorder.waitForJobRemoved(jobIdOf(path));
    const result = JSON.parse(
      String(await stack.client.jobProperty(path, 'Result')),
    ) as JobResultJson;
    return { state: String(removed.body[2]), result };
  }

  const outcomeOf = (result: JobResultJson, plugin: string, resource: string) =>
    result.resources.find((r) => r.plugin === plugin && r.resource === resource);

  it('applies hostname, time zone and locale, and the services write into their overlays', async () => {
    const { state, result } = await applyAndWait(EXAMPLE);
    assert.equal(state, 'done', JSON.stringify(result));
    assert.deepEqual(result.summary, { changed: 5, unchanged: 0, failed: 0 });
    assert.equal(await property('hostname', 'StaticHostname'), 'web-01');
    assert.equal(await property('hostname', 'PrettyHostname'), 'Web server 1');
    assert.equal(await property('timedate', 'Timezone'), 'Europe/Oslo');
    assert.deepEqual(await property('locale', 'Locale'), ['LANG=C.UTF-8', 'LC_TIME=C']);
    const upperEtc = services.hostnamed.upperOf('/etc');
    assert.equal(await readFile(join(upperEtc, 'hostname'), 'utf8'), 'web-01\n');
  });

  it('a second Apply of the same document changes nothing', async () => {
    const { state, result } = await applyAndWait(EXAMPLE);
    assert.equal(state, 'done');
    assert.deepEqual(result.summary, { changed: 0, unchanged: 5, failed: 0 });
  });

  it("Query's output names the current values and plans nothing", async () => {
    const queried = JSON.parse(await stack.client.query(['hostname', 'timedate', 'locale'])) as {
      plugins: Record<string, Record<string, unknown>>;
    };
    assert.deepEqual(queried.plugins.hostname, { static: 'web-01', pretty: 'Web server 1' });
    assert.equal(queried.plugins.timedate?.timezone, 'Europe/Oslo');
    assert.deepEqual(queried.plugins.locale, { LANG: 'C.UTF-8', LC_TIME: 'C' });
    const plan = JSON.parse(await stack.client.plan(JSON.stringify(queried))) as {
      action: string;
    }[];
    assert.ok(plan.length >= 5);
    assert.deepEqual(
      plan.filter((action) => action.action !== 'none'),
      [],
    );
  });

  it('NTP that timedate1 cannot set fails alone, with its own message; the rest applies', async () => {
    // Here timedated cannot ask systemd about timesyncd: SetNTP fails. Its words, first-hand:
    const refusal = await errorOf(
      callMethod(stack.clientBus, {
        destination: SERVICE.timedate,
        path: '/org/freedesktop/timedate1',
        interface: SERVICE.timedate,
        member: 'SetNTP',
        signature: 'bb',
        body: [true, false],
      }),
    ).catch(() => assert.fail('timedate1 accepted SetNTP: this test expects no timesyncd/systemd'));

    const { state, result } = await applyAndWait(
      doc({
        hostname: { pretty: 'Web server 2' },
        timedate: { timezone: 'Europe/Berlin', ntp: true },
      }),
    );
    assert.equal(state, 'failed');
    assert.deepEqual(result.summary, { changed: 2, unchanged: 0, failed: 1 });
    const ntp = outcomeOf(result, 'timedate', 'ntp');
    assert.equal(ntp?.outcome, 'failed');
    assert.ok(ntp?.error?.includes(refusal.text), `'${ntp?.error}' carries '${refusal.text}'`);
    assert.match(String(ntp?.error), /SetNTP/);
    assert.equal(outcomeOf(result, 'timedate', 'timezone')?.outcome, 'changed');
    assert.equal(await property('timedate', 'Timezone'), 'Europe/Berlin');
    assert.equal(await property('hostname', 'PrettyHostname'), 'Web server 2');
  });

  it("a time zone that does not exist fails with timedate1's message", async () => {
    const { state, result } = await applyAndWait(
      doc({ timedate: { timezone: 'Nowhere/Atlantis' } }),
    );
    assert.equal(state, 'failed');
    assert.match(
      String(outcomeOf(result, 'timedate', 'timezone')?.error),
      /SetTimezone failed: Invalid or not installed time zone 'Nowhere\/Atlantis'/,
    );
    assert.equal(await property('timedate', 'Timezone'), 'Europe/Berlin');
  });

  it('locale variables a document leaves out stay; an LC_* equal to LANG converges', async () => {
    const first = await applyAndWait(doc({ locale: { LANG: 'POSIX' } }));
    assert.equal(first.state, 'done', JSON.stringify(first.result));
    assert.deepEqual(await property('locale', 'Locale'), ['LANG=POSIX', 'LC_TIME=C']);

    // locale1 drops LC_TIME when it equals LANG; the plan must count that as converged.
    const same = doc({ locale: { LANG: 'C', LC_TIME: 'C' } });
    const second = await applyAndWait(same);
    assert.equal(second.state, 'done', JSON.stringify(second.result));
    assert.deepEqual(await property('locale', 'Locale'), ['LANG=C']);
    const again = await applyAndWait(same);
    assert.deepEqual(again.result.summary, { changed: 0, unchanged: 2, failed: 0 });
  });

  it('a locale not generated yet is generated by localed, inside its overlay', async (t) => {
    if (!existsSync('/usr/sbin/locale-gen') || !existsSync('/usr/share/i18n/locales/en_US')) {
      t.skip('no locale-gen or en_US locale source here (Debian package "locales")');
      return;
    }
    const { state, result } = await applyAndWait(doc({ locale: { LANG: 'en_US.UTF-8' } }));
    assert.equal(state, 'done', JSON.stringify(result));
    assert.deepEqual(await property('locale', 'Locale'), ['LANG=en_US.UTF-8']);
    assert.ok(existsSync(join(services.localed.upperOf('/usr/lib/locale'), 'locale-archive')));
  });

  it('an invalid hostname is InvalidDocument naming its path, and nothing changes', async () => {
    const before = await property('hostname', 'StaticHostname');
    const error = await errorOf(
      stack.client.apply(doc({ hostname: { static: 'web;reboot', pretty: 'x' } })),
    );
    assert.equal(error.type, ErrorName.InvalidDocument);
    assert.match(error.text, /\/plugins\/hostname\/static: must match pattern/);
    assert.equal(await property('hostname', 'StaticHostname'), before);
  });

  it('a change behind the daemon’s back is detected and corrected', async () => {
    assert.equal((await applyAndWait(EXAMPLE)).state, 'done');
    const start = recorder.signals.length;
    await busctl('hostname', 'SetPrettyHostname', 'sb', 'changed by hand', 'false');
    await waitFor(
      'DriftDetected for hostname/pretty',
      () =>
        recorder.signals
          .slice(start)
          .some(
            (s) =>
              s.member === 'DriftDetected' && s.body[0] === 'hostname' && s.body[1] === 'pretty',
          ),
      30_000,
    );
    await waitFor(
      'the pretty hostname to be corrected',
      async () => (await property('hostname', 'PrettyHostname')) === 'Web server 1',
      30_000,
    );
  });

  it("each plugin's change feed says what its service announced", async () => {
    const hosts = [hostnamePlugin, timedatePlugin, localePlugin].map((definition) => {
      const { host, stop } = testHost(definition, { systemBus: stack.bus.address });
      return { plugin: enginePlugin(definition, host), stop };
    });
    const heard: Record<string, ChangeScope[]> = {};
    try {
      for (const { plugin } of hosts) {
        await plugin.instance.start();
        plugin.instance.changes?.subscribe((scope) => (heard[plugin.name] ??= []).push(scope));
      }
      await busctl('hostname', 'SetPrettyHostname', 'sb', 'watched', 'false');
      await busctl('timedate', 'SetTimezone', 'sb', 'Europe/Paris', 'false');
      await busctl('locale', 'SetLocale', 'asb', '1', 'LANG=POSIX', 'false');
      await waitFor('all three notifications', () => Object.keys(heard).length === 3, 15_000);
      assert.ok(heard.hostname?.some((r) => r !== 'all' && r.includes('pretty')));
      assert.ok(heard.timedate?.some((r) => r !== 'all' && r.includes('timezone')));
      assert.ok(
        heard.locale?.some((r) => r === 'all'),
        'locale: look at every variable again',
      );
    } finally {
      for (const { plugin, stop } of hosts) {
        await plugin.instance.stop();
        await stop();
      }
    }
  });

  it("leaves the host's hostname, time zone, locale and clock as they were", async () => {
    const hostAfter = await snapshotHost();
    assert.deepEqual(hostAfter.files, hostBefore.files);
    assert.equal(hostAfter.hostname, hostBefore.hostname);
    assert.ok(
      Math.abs(hostAfter.wallMinusMonotonicMs - hostBefore.wallMinusMonotonicMs) < 10_000,
      `the wall clock moved against the monotonic clock by ${hostAfter.wallMinusMonotonicMs - hostBefore.wallMinusMonotonicMs} ms`,
    );
  });
});

describe('hostname, timedate and locale where their services are absent', () => {
  let stack: Stack;
  before(async () => {
    // No hostnamed, timedated or localed: the bus's activation of them fails.
    stack = await startStack({ backend: 'none' });
  });
  after(async () => stack?.stop());

  it('Query names them as unreadable, with the reason, and the answer still applies', async () => {
    const queried = JSON.parse(await stack.client.query(['hostname', 'timedate', 'locale'])) as {
      plugins: Record<string, unknown>;
      unreadable: Record<string, string>;
    };
    assert.deepEqual(queried.plugins, {});
    assert.deepEqual(Object.keys(queried.unreadable).sort(), ['hostname', 'locale', 'timedate']);
    assert.match(queried.unreadable.hostname ?? '', /hostname1 cannot be read/);
    assert.equal(await stack.client.plan(JSON.stringify(queried)), '[]');
  });

  it("a setting for an absent service fails with the bus's reason, not silently", async () => {
    const path = await stack.client.apply(doc({ hostname: { pretty: 'x' } }));
    await waitFor('the job to finish', async () =>
      ['done', 'failed'].includes(String(await stack.client.jobProperty(path, 'State'))),
    );
    const result = JSON.parse(
      String(await stack.client.jobProperty(path, 'Result')),
    ) as JobResultJson;
    assert.equal(result.resources[0]?.outcome, 'failed');
    assert.match(String(result.resources[0]?.error), /SetPrettyHostname failed: .*hostname1/);
  });
});
