import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { BUS_NAME } from '../../src/dbus/api.js';
import { ErrorName } from '../../src/errors.js';
import { startStack, type Stack } from '../harness/stack.js';
import { errorOf, ownerOf, rawCall, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';

const deep = (levels: number): string =>
  `{"version":1,"plugins":{"packagekit":{"packages":{"x":{"ensure":${'['.repeat(levels)}${']'.repeat(levels)}}}}}}`;

// Each row: a malformed document, and what the error must say about it.
const DOCUMENTS: [name: string, text: string, says: RegExp][] = [
  ['not JSON', '{version: 1}', /not valid JSON/],
  ['JSON but not an object', '"hello"', /\/: must be object/],
  ['a wrong type', '{"version":"1","plugins":{}}', /\/version: must be 1/],
  ['an unknown plugin', '{"version":1,"plugins":{"apt":{}}}', /unknown plugin 'apt'/],
  [
    'an unknown field',
    packagesDocument({ hello: { ensure: 'installed', pin: true } as never }),
    /unknown field 'pin'/,
  ],
  ['an empty package name', packagesDocument({ '': 'installed' }), /'' is not a valid name/],
  [
    'shell metacharacters in a name',
    packagesDocument({ 'x;reboot': 'installed' }),
    /'x;reboot' is not a valid name/,
  ],
  [
    'invalid UTF-8 in a name (a lone surrogate)',
    '{"version":1,"plugins":{"packagekit":{"packages":{"\\udc80x":{"ensure":"installed"}}}}}',
    /is not a valid name/,
  ],
  [
    'a unit name that is no unit',
    '{"version":1,"plugins":{"systemd":{"units":{"rm -rf":{"active_state":"active"}}}}}',
    /'rm -rf' is not a valid name/,
  ],
  [
    'an invalid hostname',
    '{"version":1,"plugins":{"hostname":{"static":"-bad-"}}}',
    /\/plugins\/hostname\/static/,
  ],
  [
    'a document over 1 MiB',
    `{"version":1,"plugins":{},"x":"${'y'.repeat(2 * 1024 * 1024)}"}`,
    /the limit is 1048576/,
  ],
  ['deep nesting', deep(10_000), /nested deeper than 32 levels/],
];

describe('bad input of every kind gets a clear error, changes nothing, and the daemon keeps answering', () => {
  let stack: Stack;
  let recorder: SignalRecorder;
  before(async () => {
    stack = await startStack({ daemonArgs: ['--no-drift-correction'] });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
  });

  for (const [name, text, says] of DOCUMENTS) {
    it(`Apply and Plan of ${name}`, async () => {
      for (const call of [() => stack.client.apply(text), () => stack.client.plan(text)]) {
        const error = await errorOf(call());
        assert.equal(error.type, ErrorName.InvalidDocument);
        assert.match(error.text, says);
      }
      assert.equal(await stack.client.managerProperty('DesiredGeneration'), 0n);
      assert.equal(recorder.named('JobNew').length, 0);
    });
  }

  const CALLS: [name: string, member: string, signature: string, body: unknown[], error: string][] =
    [
      ['a wrong signature', 'Apply', 'i', [1], ErrorName.InvalidArgs],
      ['a missing argument', 'Apply', '', [], ErrorName.InvalidArgs],
      ['an extra argument', 'GetDesiredState', 's', ['x'], ErrorName.InvalidArgs],
      ['an array where a string belongs', 'Plan', 'as', [['{}']], ErrorName.InvalidArgs],
      ['an unknown method', 'Destroy', '', [], ErrorName.UnknownMethod],
      ['an unknown plugin in Query', 'Query', 'as', [['nope']], ErrorName.UnknownPlugin],
    ];
  for (const [name, member, signature, body, expected] of CALLS) {
    it(`a D-Bus call with ${name}`, async () => {
      const error = await errorOf(rawCall(stack.clientBus, member, signature, body));
      assert.equal(error.type, expected);
      assert.ok(error.text.length > 10, `a message that explains: ${error.text}`);
    });
  }

  it('random documents never crash the daemon, and invalid ones change nothing', async () => {
    const daemonName = await ownerOf(stack.clientBus, BUS_NAME);
    const anyJson = fc
      .oneof(
        fc.json(),
        fc
          .jsonValue()
          .map((value) =>
            JSON.stringify({ version: 1, plugins: { packagekit: { packages: { x: value } } } }),
          ),
        fc
          .dictionary(fc.string(), fc.jsonValue())
          .map((plugins) => JSON.stringify({ version: 1, plugins })),
        fc.string({ unit: 'binary' }),
      )
      .filter((text) => !text.includes('\u0000')); // D-Bus strings cannot carry NUL: the bus itself refuses them
    let invalid = 0;
    await fc.assert(
      fc.asyncProperty(anyJson, fc.boolean(), async (text, apply) => {
        const before = await stack.client.managerProperty('DesiredGeneration');
        const jobs = recorder.named('JobNew').length;
        try {
          if (apply) await stack.client.apply(text);
          else await stack.client.plan(text);
        } catch (err) {
          assert.equal((err as { type?: string }).type, ErrorName.InvalidDocument, String(err));
          invalid += 1;
          assert.equal(await stack.client.managerProperty('DesiredGeneration'), before);
          assert.equal(recorder.named('JobNew').length, jobs);
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(invalid > 250, `most random documents are invalid (${invalid})`);
    assert.equal(
      await ownerOf(stack.clientBus, BUS_NAME),
      daemonName,
      'the same daemon still serves',
    );
  });
});
