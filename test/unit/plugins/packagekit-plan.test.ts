import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Info } from '../../../src/plugins/packagekit/enums.js';
import { parsePackageId } from '../../../src/plugins/packagekit/transaction-error.js';
import { groupByName, planPackages } from '../../../src/plugins/packagekit/plan.js';
import type { PackageKitSection } from '../../../src/plugins/packagekit/schema.js';

const installed = (id: string) => parsePackageId(Info.installed, id, '');
const available = (id: string) => parsePackageId(Info.available, id, '');

// What the apt backend's Resolve returned on this machine: bash installed with a
// newer candidate (listed twice), sl only available, hello installed and current.
const RESOLVED = [
  available('bash;5.2.15-2+b13;amd64;debian-oldstable-main'),
  available('bash;5.2.15-2+b13;amd64;debian-oldstable-main'),
  installed('bash;5.2.15-2+b8;amd64;auto:local'),
  available('sl;5.02-1+b1;amd64;debian-oldstable-main'),
  installed('hello;2.10-3;amd64;manual:debian-oldstable-main'),
];

function plan(packages: PackageKitSection['packages']) {
  const observed = groupByName(Object.keys(packages), RESOLVED);
  // Versions only, so the table stays readable; the full shapes are checked below.
  return planPackages({ packages }, observed).map(
    ({ resource, action, from, to, packageId, reason }) => ({
      resource,
      action,
      from: from?.version ?? null,
      to: to?.version ?? null,
      packageId,
      ...(reason === undefined ? {} : { reason }),
    }),
  );
}

describe('packagekit planning (pure)', () => {
  const table: [
    string,
    PackageKitSection['packages'],
    {
      action: string;
      from: string | null;
      to: string | null;
      packageId: string | undefined;
      reason?: string;
    },
  ][] = [
    [
      'installed and wanted: nothing',
      { hello: { ensure: 'installed' } },
      {
        action: 'none',
        from: '2.10-3',
        to: '2.10-3',
        packageId: 'hello;2.10-3;amd64;manual:debian-oldstable-main',
      },
    ],
    [
      'missing and wanted: install the candidate',
      { sl: { ensure: 'installed' } },
      {
        action: 'install',
        from: null,
        to: '5.02-1+b1',
        packageId: 'sl;5.02-1+b1;amd64;debian-oldstable-main',
      },
    ],
    [
      'unknown and wanted: unresolvable, with the reason (never a plain install)',
      { nosuch: { ensure: 'installed' } },
      {
        action: 'unresolvable',
        from: null,
        to: null,
        packageId: undefined,
        reason: "no package named 'nosuch' in any repository PackageKit knows",
      },
    ],
    [
      'unknown and wanted at latest: unresolvable too',
      { nosuch: { ensure: 'latest' } },
      {
        action: 'unresolvable',
        from: null,
        to: null,
        packageId: undefined,
        reason: "no package named 'nosuch' in any repository PackageKit knows",
      },
    ],
    [
      'installed and to be removed: remove the installed id',
      { hello: { ensure: 'removed' } },
      {
        action: 'remove',
        from: '2.10-3',
        to: null,
        packageId: 'hello;2.10-3;amd64;manual:debian-oldstable-main',
      },
    ],
    [
      'absent and to be removed: nothing',
      { sl: { ensure: 'removed' } },
      { action: 'none', from: null, to: null, packageId: undefined },
    ],
    [
      'latest with a newer candidate: upgrade',
      { bash: { ensure: 'latest' } },
      {
        action: 'upgrade',
        from: '5.2.15-2+b8',
        to: '5.2.15-2+b13',
        packageId: 'bash;5.2.15-2+b13;amd64;debian-oldstable-main',
      },
    ],
    [
      'latest and already newest: nothing',
      { hello: { ensure: 'latest' } },
      {
        action: 'none',
        from: '2.10-3',
        to: '2.10-3',
        packageId: 'hello;2.10-3;amd64;manual:debian-oldstable-main',
      },
    ],
    [
      'latest and missing: install',
      { sl: { ensure: 'latest' } },
      {
        action: 'install',
        from: null,
        to: '5.02-1+b1',
        packageId: 'sl;5.02-1+b1;amd64;debian-oldstable-main',
      },
    ],
    [
      'installed is enough without a pin, even with a newer candidate',
      { bash: { ensure: 'installed' } },
      {
        action: 'none',
        from: '5.2.15-2+b8',
        to: '5.2.15-2+b8',
        packageId: 'bash;5.2.15-2+b8;amd64;auto:local',
      },
    ],
    [
      'pinned to the installed version: nothing',
      { bash: { ensure: 'installed', version: '5.2.15-2+b8' } },
      {
        action: 'none',
        from: '5.2.15-2+b8',
        to: '5.2.15-2+b8',
        packageId: 'bash;5.2.15-2+b8;amd64;auto:local',
      },
    ],
    [
      'pinned to the candidate: change version',
      { bash: { ensure: 'installed', version: '5.2.15-2+b13' } },
      {
        action: 'change-version',
        from: '5.2.15-2+b8',
        to: '5.2.15-2+b13',
        packageId: 'bash;5.2.15-2+b13;amd64;debian-oldstable-main',
      },
    ],
    [
      'pinned to a version nobody offers: unresolvable, naming what is offered',
      { sl: { ensure: 'installed', version: '9.9' } },
      {
        action: 'unresolvable',
        from: null,
        to: '9.9',
        packageId: undefined,
        reason: 'no version "9.9" of \'sl\' in any repository (available: 5.02-1+b1)',
      },
    ],
  ];
  for (const [name, packages, expected] of table) {
    it(name, () => {
      const [change] = plan(packages);
      assert.deepEqual(change, { resource: Object.keys(packages)[0], ...expected });
    });
  }

  it('plans one change per package, in document order', () => {
    const changes = plan({
      sl: { ensure: 'installed' },
      hello: { ensure: 'removed' },
      bash: { ensure: 'installed' },
    });
    assert.deepEqual(
      changes.map((c) => [c.resource, c.action]),
      [
        ['sl', 'install'],
        ['hello', 'remove'],
        ['bash', 'none'],
      ],
    );
  });

  it('shows an install as its target: installed at the candidate version', () => {
    const observed = groupByName(['sl'], RESOLVED);
    const [change] = planPackages({ packages: { sl: { ensure: 'installed' } } }, observed);
    assert.deepEqual(change?.from, null);
    assert.deepEqual(change?.to, { ensure: 'installed', version: '5.02-1+b1' });
  });

  it('parses package ids into their four parts', () => {
    assert.deepEqual(parsePackageId(1, 'sl;5.02-1+b1;amd64;+manual:debian', 'steam'), {
      info: 1,
      id: 'sl;5.02-1+b1;amd64;+manual:debian',
      name: 'sl',
      version: '5.02-1+b1',
      arch: 'amd64',
      data: '+manual:debian',
      summary: 'steam',
    });
  });
});
