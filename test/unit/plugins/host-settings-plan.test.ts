import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HOSTNAME_SETTINGS } from '../../../src/plugins/hostname/index.js';
import {
  currentLocale,
  localeToSet,
  parseLocale,
  planLocale,
  type LocaleSettings,
} from '../../../src/plugins/locale/plan.js';
import { LOCALE_VARIABLES } from '../../../src/plugins/locale/schema.js';
import { currentSettings, planSettings } from '../../../src/plugins/shared/scalar-settings.js';
import { TIMEDATE_SETTINGS } from '../../../src/plugins/timedate/index.js';

const summary = (changes: { resource: string; action: string; from: unknown; to: unknown }[]) =>
  changes.map(({ resource, action, from, to }) => ({ resource, action, from, to }));

describe('hostname and timedate planning (pure)', () => {
  const observed = {
    StaticHostname: { value: 'vm' },
    PrettyHostname: { value: '' },
    Timezone: { value: 'Etc/UTC' },
    NTP: { error: 'Input/output error (org.freedesktop.DBus.Error.IOError)' },
  };

  it('plans one change per named field, in setter order, and none where equal', () => {
    assert.deepEqual(
      summary(planSettings(HOSTNAME_SETTINGS, { pretty: 'Web 1', static: 'vm' }, observed)),
      [
        { resource: 'static', action: 'none', from: 'vm', to: 'vm' },
        { resource: 'pretty', action: 'set', from: '', to: 'Web 1' },
      ],
    );
  });

  it('leaves out fields the section does not name', () => {
    assert.deepEqual(
      summary(planSettings(TIMEDATE_SETTINGS, { timezone: 'Europe/Oslo' }, observed)),
      [{ resource: 'timezone', action: 'set', from: 'Etc/UTC', to: 'Europe/Oslo' }],
    );
    assert.deepEqual(planSettings(HOSTNAME_SETTINGS, {}, observed), []);
  });

  it('plans an unreadable property as set from null: only the setter can tell', () => {
    assert.deepEqual(summary(planSettings(TIMEDATE_SETTINGS, { ntp: false }, observed)), [
      { resource: 'ntp', action: 'set', from: null, to: false },
    ]);
  });

  it('queries only values that are set, readable and valid', () => {
    assert.deepEqual(currentSettings(HOSTNAME_SETTINGS, observed), { static: 'vm' });
    assert.deepEqual(currentSettings(TIMEDATE_SETTINGS, observed), { timezone: 'Etc/UTC' });
    // hostname1 accepts mixed case and tabs are refused by it but could be in a file:
    // neither passes the schema, so neither may appear in a section Apply would reject.
    assert.deepEqual(
      currentSettings(HOSTNAME_SETTINGS, {
        StaticHostname: { value: 'Web-01' },
        PrettyHostname: { value: 'a\tb' },
      }),
      {},
    );
    assert.deepEqual(currentSettings(TIMEDATE_SETTINGS, { NTP: { value: false } }), {
      ntp: false,
    });
  });

  it('a queried section plans nothing against the state it came from', () => {
    for (const settings of [HOSTNAME_SETTINGS, TIMEDATE_SETTINGS]) {
      const section = currentSettings(settings, observed);
      assert.ok(planSettings(settings, section, observed).every((c) => c.action === 'none'));
    }
  });
});

describe('locale planning (pure)', () => {
  it('parses locale1 assignments and drops variables it does not manage', () => {
    assert.deepEqual(parseLocale(['LANG=C.UTF-8', 'LC_TIME=C', 'LC_ALL=C', 'junk']), {
      LANG: 'C.UTF-8',
      LC_TIME: 'C',
    });
  });

  const table: [string, LocaleSettings, Record<string, string>, [string, string, unknown][]][] = [
    ['equal: nothing', { LANG: 'C.UTF-8' }, { LANG: 'C.UTF-8' }, [['LANG', 'none', 'C.UTF-8']]],
    ['LANG differs', { LANG: 'C' }, { LANG: 'C.UTF-8' }, [['LANG', 'set', 'C']]],
    ['nothing set yet', {}, { LANG: 'C.UTF-8' }, [['LANG', 'set', null]]],
    [
      // locale1 drops an LC_* equal to LANG when it saves: still as desired.
      'an unset LC_* follows LANG',
      { LANG: 'C.UTF-8' },
      { LANG: 'C.UTF-8', LC_TIME: 'C.UTF-8' },
      [
        ['LANG', 'none', 'C.UTF-8'],
        ['LC_TIME', 'none', 'C.UTF-8'],
      ],
    ],
    [
      'an unset LC_* that would follow a changing LANG away is set',
      { LANG: 'C.UTF-8' },
      { LANG: 'POSIX', LC_TIME: 'C.UTF-8' },
      [
        ['LANG', 'set', 'C.UTF-8'],
        ['LC_TIME', 'set', 'C.UTF-8'],
      ],
    ],
    [
      'an unset LC_* brought along by the new LANG is a change too',
      { LANG: 'C' },
      { LANG: 'POSIX', LC_TIME: 'POSIX' },
      [
        ['LANG', 'set', 'C'],
        ['LC_TIME', 'set', 'C'],
      ],
    ],
    [
      'LANGUAGE does not follow LANG',
      { LANG: 'C' },
      { LANGUAGE: 'C' },
      [['LANGUAGE', 'set', null]],
    ],
  ];
  for (const [name, current, desired, expected] of table) {
    it(name, () => {
      assert.deepEqual(
        planLocale(desired, current).map((c) => [c.resource, c.action, c.from]),
        expected,
      );
    });
  }

  it('sends the current variables with the desired ones laid over them, in locale.conf order', () => {
    assert.deepEqual(
      localeToSet({ LC_TIME: 'C', LANG: 'C.UTF-8' }, { LANG: 'POSIX', LC_MESSAGES: 'C' }),
      ['LANG=C.UTF-8', 'LC_TIME=C', 'LC_MESSAGES=C'],
    );
  });

  it('queries valid values only', () => {
    assert.deepEqual(currentLocale({ LANG: 'en_US.UTF-8', LC_TIME: 'bad value;', LC_NAME: '' }), {
      LANG: 'en_US.UTF-8',
    });
  });

  it('any current locale queried and planned again plans nothing', () => {
    const value = fc.constantFrom('C', 'C.UTF-8', 'POSIX', 'en_US.UTF-8', 'de_DE@euro', 'en_US:en');
    const locale = fc.dictionary(fc.constantFrom(...LOCALE_VARIABLES), value);
    fc.assert(
      fc.property(locale, (current) =>
        planLocale(currentLocale(current), current).every((change) => change.action === 'none'),
      ),
    );
  });

  it('after applying the merged list, the plan is empty (locale1 saving it as sent or simplified)', () => {
    const value = fc.constantFrom('C', 'C.UTF-8', 'POSIX');
    const locale = fc.dictionary(fc.constantFrom(...LOCALE_VARIABLES), value);
    fc.assert(
      fc.property(locale, locale, (current, desired) => {
        const saved = parseLocale(localeToSet(desired, current));
        // What locale1 252 keeps: LC_* equal to LANG are dropped.
        const simplified = Object.fromEntries(
          Object.entries(saved).filter(([k, v]) => !k.startsWith('LC_') || v !== saved.LANG),
        );
        return [saved, simplified].every((after) =>
          planLocale(desired, after).every((change) => change.action === 'none'),
        );
      }),
    );
  });
});
