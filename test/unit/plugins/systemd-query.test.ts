import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { DocumentValidator } from '../../../src/document/validator.js';
import { sectionFromListings } from '../../../src/plugins/systemd/query.js';
import { SystemdSection } from '../../../src/plugins/systemd/schema.js';

describe('systemd query (pure)', () => {
  const files = [
    { path: '/etc/systemd/system/nginx.service', state: 'enabled' },
    { path: '/usr/lib/systemd/system/nginx.service', state: 'disabled' },
    { path: '/usr/lib/systemd/system/cron.service', state: 'disabled' },
    { path: '/etc/systemd/system/telnet.socket', state: 'masked' },
    { path: '/etc/systemd/system/busy.service', state: 'masked' },
    { path: '/usr/lib/systemd/system/dbus.service', state: 'static' },
    { path: '/etc/systemd/system/op-dbus.service', state: 'masked' },
    { path: '/usr/lib/systemd/system/systemd-journald.socket', state: 'enabled' },
    { path: '/run/systemd/system/rt.service', state: 'enabled-runtime' },
    { path: '/run/systemd/system/rt-masked.service', state: 'masked-runtime' },
    { path: '/usr/lib/systemd/system/getty@.service', state: 'enabled' },
    { path: '/usr/lib/systemd/system/dev-disk-by\\x2duuid-1.swap', state: 'enabled' },
    { path: '/usr/lib/systemd/system/starting.service', state: 'enabled' },
  ];
  const loaded = [
    { name: 'nginx.service', activeState: 'active' },
    { name: 'busy.service', activeState: 'active' },
    { name: 'rt.service', activeState: 'active' },
    { name: 'systemd-journald.socket', activeState: 'inactive' },
    { name: 'starting.service', activeState: 'activating' },
  ];
  const section = sectionFromListings(files, loaded);

  it('describes enabled, disabled and masked units, runtime ones by their active state; skips static, template and escaped names', () => {
    assert.deepEqual(section, {
      units: {
        'busy.service': { masked: true },
        'cron.service': { enabled: false, active_state: 'inactive' },
        'nginx.service': { enabled: true, active_state: 'active' },
        'rt-masked.service': { active_state: 'inactive' },
        'rt.service': { active_state: 'active' },
        'starting.service': { enabled: true },
        'systemd-journald.socket': { enabled: true },
        'telnet.socket': { masked: true, active_state: 'inactive' },
      },
    });
  });

  it('is a section the schema accepts', () => {
    const validator = new DocumentValidator(
      buildDocumentSchema([{ name: 'systemd', schema: SystemdSection }]),
    );
    validator.check({ version: 1, plugins: { systemd: section } });
  });
});
