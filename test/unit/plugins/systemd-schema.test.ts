import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { DocumentValidator } from '../../../src/document/validator.js';
import { ErrorName, OpdbusError } from '../../../src/errors.js';
import { SystemdSection } from '../../../src/plugins/systemd/schema.js';

describe('systemd schema', () => {
  const validator = new DocumentValidator(
    buildDocumentSchema([{ name: 'systemd', schema: SystemdSection }]),
  );
  const check = (units: unknown) =>
    validator.check({ version: 1, plugins: { systemd: { units } } });
  const refusal = (units: unknown): string => {
    try {
      check(units);
    } catch (err) {
      assert.ok(err instanceof OpdbusError);
      assert.equal(err.dbusName, ErrorName.InvalidDocument);
      return err.message;
    }
    assert.fail('the document was accepted');
  };

  it('accepts the original op-dbus format', () => {
    check({
      'nginx.service': { active_state: 'active', enabled: true },
      'telnet.socket': { active_state: 'inactive', enabled: false, masked: true },
      'getty@tty1.service': { enabled: true },
    });
  });

  for (const name of [
    'dbus.service',
    'dbus.socket',
    'op-dbus.service',
    'systemd-journald.service',
    'systemd-journald.socket',
  ]) {
    it(`refuses to stop or mask ${name}, naming the path`, () => {
      assert.match(
        refusal({ [name]: { active_state: 'inactive' } }),
        new RegExp(
          `/plugins/systemd/units/${name.replace('.', '\\.')}/active_state: must be "active"`,
        ),
      );
      assert.match(
        refusal({ [name]: { masked: true, active_state: 'inactive', enabled: false } }),
        /masked: must be false/,
      );
    });
  }

  it('lets a protected unit be kept running and enabled', () => {
    check({ 'dbus.service': { active_state: 'active', enabled: true } });
  });

  it('refuses names that are not unit names, templates, and contradictions', () => {
    assert.match(refusal({ 'x;rm -rf /.service': { enabled: true } }), /is not a valid name/);
    assert.match(refusal({ nginx: { enabled: true } }), /is not a valid name/);
    assert.match(refusal({ 'getty@.service': { enabled: true } }), /is not a valid name/);
    assert.match(refusal({ [`${'a'.repeat(250)}.service`]: { enabled: true } }), /255/);
    assert.match(refusal({ 'x.service': {} }), /fewer than 1 properties/);
    assert.match(
      refusal({ 'x.service': { active_state: 'running' } }),
      /must be one of "active", "inactive"/,
    );
    assert.match(
      refusal({ 'x.service': { masked: true, active_state: 'active' } }),
      /active_state: must be "inactive"/,
    );
    assert.match(
      refusal({ 'x.service': { masked: true, enabled: true } }),
      /enabled: must be false/,
    );
    assert.match(
      refusal({ 'x.service': { enabled: true, restart: true } }),
      /unknown field 'restart'/,
    );
  });
});
