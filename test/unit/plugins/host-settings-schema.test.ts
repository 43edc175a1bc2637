import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { DocumentValidator } from '../../../src/document/validator.js';
import { ErrorName, OpdbusError } from '../../../src/errors.js';
import { hostnamePlugin } from '../../../src/plugins/hostname/index.js';
import { localePlugin } from '../../../src/plugins/locale/index.js';
import { timedatePlugin } from '../../../src/plugins/timedate/index.js';

const validator = new DocumentValidator(
  buildDocumentSchema([hostnamePlugin, timedatePlugin, localePlugin]),
);

const doc = (plugins: object): string => JSON.stringify({ version: 1, plugins });

function problemsOf(text: string): string {
  try {
    validator.parse(text);
  } catch (err) {
    assert.ok(err instanceof OpdbusError);
    assert.equal(err.dbusName, ErrorName.InvalidDocument);
    return err.message;
  }
  assert.fail(`accepted: ${text}`);
}

describe('hostname, timedate and locale schemas', () => {
  it('accepts the documented example', () => {
    validator.parse(
      doc({
        hostname: { static: 'web-01', pretty: 'Web server 1' },
        timedate: { timezone: 'Europe/Oslo', ntp: true },
        locale: { LANG: 'en_US.UTF-8' },
      }),
    );
  });

  const goodHostnames = ['a', 'web-01', 'node1.example.com', 'x'.repeat(63), '0-0'];
  for (const name of goodHostnames) {
    it(`accepts the hostname ${JSON.stringify(name.slice(0, 20))}`, () => {
      validator.parse(doc({ hostname: { static: name } }));
    });
  }

  const badHostnames = [
    '',
    'web_01',
    '-web',
    'web-',
    'a..b',
    '.a',
    'a.',
    'Web-01',
    'web 01',
    'web;reboot',
    '$(reboot)',
    'a\nb',
    'x'.repeat(64),
    `${'a'.repeat(32)}.${'b'.repeat(32)}`,
  ];
  for (const name of badHostnames) {
    it(`rejects the hostname ${JSON.stringify(name.slice(0, 20))}, naming the path`, () => {
      assert.match(problemsOf(doc({ hostname: { static: name } })), /\/plugins\/hostname\/static:/);
    });
  }

  it('rejects a pretty hostname with a control character or too long', () => {
    assert.match(problemsOf(doc({ hostname: { pretty: 'a\tb' } })), /\/plugins\/hostname\/pretty/);
    assert.match(
      problemsOf(doc({ hostname: { pretty: 'x'.repeat(256) } })),
      /\/plugins\/hostname\/pretty/,
    );
    validator.parse(doc({ hostname: { pretty: 'Café ☕ 1' } }));
  });

  it('rejects time zones with dots, spaces or shell characters, and a non-boolean ntp', () => {
    for (const zone of ['../etc/passwd', 'Europe/Oslo ', '/Europe', 'Europe//Oslo', '$(x)', '']) {
      assert.match(
        problemsOf(doc({ timedate: { timezone: zone } })),
        /\/plugins\/timedate\/timezone/,
      );
    }
    assert.match(problemsOf(doc({ timedate: { ntp: 'yes' } })), /\/plugins\/timedate\/ntp/);
    validator.parse(doc({ timedate: { timezone: 'Etc/GMT+5' } }));
  });

  it('rejects unknown locale variables and bad values', () => {
    assert.match(
      problemsOf(doc({ locale: { LC_FOO: 'C' } })),
      /\/plugins\/locale: unknown field 'LC_FOO'/,
    );
    assert.match(problemsOf(doc({ locale: { LANG: 'en US' } })), /\/plugins\/locale\/LANG/);
    assert.match(problemsOf(doc({ locale: { LANG: 'C;id' } })), /\/plugins\/locale\/LANG/);
    validator.parse(doc({ locale: { LANGUAGE: 'en_US:en', LC_TIME: 'de_DE@euro' } }));
  });

  it('rejects unknown fields in hostname and timedate', () => {
    assert.match(problemsOf(doc({ hostname: { transient: 'x' } })), /unknown field 'transient'/);
    assert.match(problemsOf(doc({ timedate: { time: 0 } })), /unknown field 'time'/);
  });
});
