import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unitNameFromPath, unitPathFromName } from '../../../src/plugins/systemd/unit-path.js';

describe('unit object paths', () => {
  it('unescape to unit names', () => {
    assert.equal(
      unitNameFromPath('/org/freedesktop/systemd1/unit/nginx_2eservice'),
      'nginx.service',
    );
    assert.equal(
      unitNameFromPath('/org/freedesktop/systemd1/unit/getty_40tty1_2eservice'),
      'getty@tty1.service',
    );
    assert.equal(
      unitNameFromPath('/org/freedesktop/systemd1/unit/gpg_2dagent_2esocket'),
      'gpg-agent.socket',
    );
    assert.equal(unitNameFromPath('/org/freedesktop/systemd1/job/42'), undefined);
    assert.equal(unitNameFromPath('/org/freedesktop/systemd1/unit/bad_zz'), undefined);
  });
});

describe('unit object paths from names', () => {
  it('escape as systemd does, and round-trip', () => {
    assert.equal(
      unitPathFromName('nginx.service'),
      '/org/freedesktop/systemd1/unit/nginx_2eservice',
    );
    assert.equal(unitPathFromName('9p.mount'), '/org/freedesktop/systemd1/unit/_39p_2emount');
    for (const name of ['getty@tty1.service', 'a-b_c.socket', 'x9.timer']) {
      assert.equal(unitNameFromPath(unitPathFromName(name)), name);
    }
  });
});
