import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { buildDocumentSchema } from '../../../src/document/document.js';
import {
  DocumentValidator,
  MAX_DOCUMENT_BYTES,
  MAX_DOCUMENT_DEPTH,
} from '../../../src/document/validator.js';
import { ErrorName, OpdbusError } from '../../../src/errors.js';
import { PLUGINS } from '../../../src/plugins/registry.js';
import { packagesDocument } from '../../helpers/documents.js';

const validator = new DocumentValidator(buildDocumentSchema(PLUGINS));

function problemsOf(text: string): string {
  try {
    validator.parse(text);
  } catch (err) {
    assert.ok(err instanceof OpdbusError, `expected OpdbusError, got ${String(err)}`);
    assert.equal(err.dbusName, ErrorName.InvalidDocument);
    return err.message;
  }
  assert.fail(`document was accepted: ${text.slice(0, 200)}`);
}

function nested(depth: number): string {
  return `{"version":1,"plugins":{"packagekit":{"packages":{"x":{"ensure":${'['.repeat(depth)}${']'.repeat(depth)}}}}}}`;
}

describe('document validation', () => {
  it('accepts the documented example and freezes it', () => {
    const document = validator.parse(
      packagesDocument({
        hello: 'installed',
        sl: 'removed',
        vim: 'latest',
        bash: { ensure: 'installed', version: '5.2.15-2+b8' },
      }),
    );
    assert.deepEqual(Object.keys((document.plugins.packagekit as { packages: object }).packages), [
      'hello',
      'sl',
      'vim',
      'bash',
    ]);
    assert.ok(Object.isFrozen(document.plugins.packagekit));
  });

  it('accepts a $schema for editors, and nothing else unknown at the top', () => {
    const document = validator.parse(
      '{"$schema":"./docs/schema/op-dbus.schema.json","version":1,"plugins":{}}',
    );
    assert.equal(document.version, 1);
  });

  it('accepts a document with no plugins', () => {
    assert.deepEqual(validator.parse('{"version":1,"plugins":{}}').plugins, {});
  });

  const cases: [name: string, text: string, expected: RegExp[]][] = [
    ['not JSON', '{"version": 1,', [/^ {2}\/: not valid JSON/m]],
    ['an empty string', '', [/not valid JSON/]],
    ['a JSON array', '[]', [/\/: must be object/]],
    ['a wrong version', '{"version":2,"plugins":{}}', [/\/version: must be 1/]],
    ['a missing plugins field', '{"version":1}', [/\/: missing required field 'plugins'/]],
    [
      'an unknown top-level field',
      '{"version":1,"plugins":{},"extra":true}',
      [/\/: unknown field 'extra'/],
    ],
    [
      'an unknown plugin',
      '{"version":1,"plugins":{"nosuchplugin":{}}}',
      [/\/plugins: unknown plugin 'nosuchplugin' \(known: packagekit[,)]/],
    ],
    [
      'an unknown field in a package',
      packagesDocument({ hello: { ensure: 'installed', colour: 'red' } as never }),
      [/\/plugins\/packagekit\/packages\/hello: unknown field 'colour'/],
    ],
    [
      'a wrong ensure',
      packagesDocument({ hello: 'present' as never }),
      [
        /\/plugins\/packagekit\/packages\/hello\/ensure: must be one of "installed", "removed", "latest"/,
      ],
    ],
    [
      'a wrong type',
      '{"version":1,"plugins":{"packagekit":{"packages":{"hello":{"ensure":7}}}}}',
      [/\/ensure: must be string/],
    ],
    ['an empty package name', packagesDocument({ '': 'installed' }), [/'' is not a valid name/]],
    [
      'a name with a semicolon',
      packagesDocument({ 'hello; rm -rf /': 'installed' }),
      [/'hello; rm -rf \/' is not a valid name/],
    ],
    [
      'a name with command substitution',
      packagesDocument({ '$(reboot)': 'installed' }),
      [/'\$\(reboot\)' is not a valid name/],
    ],
    [
      'a name with backticks',
      packagesDocument({ '`id`': 'installed' }),
      [/'`id`' is not a valid name/],
    ],
    [
      'a name with a pipe',
      packagesDocument({ 'a|b': 'installed' }),
      [/'a\|b' is not a valid name/],
    ],
    ['a name with a newline', packagesDocument({ 'a\nb': 'installed' }), [/is not a valid name/]],
    [
      'a name starting with a dash',
      packagesDocument({ '-rf': 'installed' }),
      [/'-rf' is not a valid name/],
    ],
    [
      'a version with a shell character',
      packagesDocument({ hello: { ensure: 'installed', version: '1.0;ls' } }),
      [/\/hello\/version: must match pattern/],
    ],
    [
      'a version pinned with removed',
      packagesDocument({ hello: { ensure: 'removed', version: '1.0' } }),
      [/\/hello\/ensure: must be "installed"/],
    ],
    ['deep nesting', nested(MAX_DOCUMENT_DEPTH + 5), [/nested deeper than 32 levels/]],
    [
      'several problems at once',
      '{"version":3,"plugins":{"bogus":1,"packagekit":{"packages":{"a b":{"ensure":"x"}}}}}',
      [
        /\(3 problems\)/,
        /\/version: must be 1/,
        /unknown plugin 'bogus'/,
        /'a b' is not a valid name/,
      ],
    ],
  ];

  for (const [name, text, expected] of cases) {
    it(`rejects ${name}, naming the path`, () => {
      const message = problemsOf(text);
      for (const pattern of expected) assert.match(message, pattern);
    });
  }

  it('rejects a document over the size limit before parsing it', () => {
    const padding = 'x'.repeat(MAX_DOCUMENT_BYTES);
    const message = problemsOf(`{"version":1,"plugins":{},"pad":"${padding}"}`);
    assert.match(message, new RegExp(`the limit is ${MAX_DOCUMENT_BYTES}`));
  });

  it('lists at most 50 problems and says how many more', () => {
    const many = Object.fromEntries(
      Array.from({ length: 80 }, (_, i) => [`bad name ${i}`, 'installed' as const]),
    );
    const message = problemsOf(packagesDocument(many));
    assert.match(message, /\(80 problems\)/);
    assert.match(message, /\.\.\. and 30 more/);
  });

  it('takes a document exactly at the nesting limit to the schema, and one level more not', () => {
    // {"x": {"x": ... }} nested `levels` objects deep: the schema refuses the
    // field, so which message comes back tells which check stopped it.
    // The document object is level 1, so `levels` objects under "x" make levels + 1.
    const chain = (levels: number): string =>
      `{"version":1,"plugins":{},"x":${'{"x":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}}`;
    const atLimit = problemsOf(chain(MAX_DOCUMENT_DEPTH - 1));
    assert.doesNotMatch(atLimit, /nested deeper/);
    assert.match(atLimit, /unknown field 'x'/);
    assert.match(problemsOf(chain(MAX_DOCUMENT_DEPTH)), /nested deeper than 32 levels/);
  });

  it('builds a schema that rejects plugins it was not given', () => {
    const bare = new DocumentValidator(
      buildDocumentSchema([{ name: 'other', schema: Type.Object({}) }]),
    );
    assert.throws(
      () => bare.parse(packagesDocument({ hello: 'installed' })),
      /unknown plugin 'packagekit' \(known: other\)/,
    );
  });
});
