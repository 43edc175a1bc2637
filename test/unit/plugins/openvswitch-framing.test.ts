import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  JsonFramingError,
  JsonStreamSplitter,
} from '../../../src/plugins/openvswitch/ovsdb/json-stream.js';

/** Messages chosen to trip a naive splitter: braces and quotes inside strings, escapes, UTF-8. */
const MESSAGES: unknown[] = [
  { id: 1, method: 'echo', params: [] },
  { result: [{ rows: [{ name: 'br{0}' }] }], error: null, id: 2 },
  { id: 3, s: 'a "quoted} string" with \\ and \\" and ]]]' },
  { id: 4, s: 'ends with a backslash\\' },
  { id: 5, s: 'unicode é 😀 中文 \u0000\u001f', t: '\u2028\u2029' },
  [1, [2, [3, { x: '[' }]]],
  { id: 6, nested: { a: { b: { c: ['}', '{', '"'] } } } },
  { id: 7, empty: {}, list: [] },
];

/** As ovsdb-server sends them: no delimiter, sometimes whitespace between. */
function sampleStream(): Buffer {
  const parts = MESSAGES.map((message, index) => {
    const text = JSON.stringify(message);
    return index % 3 === 1 ? `\n ${text}\t` : text;
  });
  return Buffer.from(parts.join(''), 'utf8');
}

function feed(splitter: JsonStreamSplitter, chunks: Uint8Array[]): unknown[] {
  return chunks.flatMap((chunk) => splitter.push(chunk)).map((text) => JSON.parse(text) as unknown);
}

describe('OVSDB JSON stream framing', () => {
  it('frames the sample stream in one chunk', () => {
    assert.deepEqual(feed(new JsonStreamSplitter(), [sampleStream()]), MESSAGES);
  });

  it('frames it when split at every byte boundary', () => {
    const stream = sampleStream();
    for (let cut = 0; cut <= stream.length; cut++) {
      const chunks = [stream.subarray(0, cut), stream.subarray(cut)];
      assert.deepEqual(feed(new JsonStreamSplitter(), chunks), MESSAGES, `cut at byte ${cut}`);
    }
  });

  it('frames it when split at every pair of byte boundaries', () => {
    const stream = sampleStream();
    for (let first = 0; first <= stream.length; first += 3) {
      for (let second = first; second <= stream.length; second += 7) {
        const chunks = [
          stream.subarray(0, first),
          stream.subarray(first, second),
          stream.subarray(second),
        ];
        assert.deepEqual(feed(new JsonStreamSplitter(), chunks), MESSAGES);
      }
    }
  });

  it('frames it fed one byte at a time (UTF-8 characters split across chunks)', () => {
    const stream = sampleStream();
    const bytes = [...stream].map((byte) => Uint8Array.of(byte));
    assert.deepEqual(feed(new JsonStreamSplitter(), bytes), MESSAGES);
  });

  it('does not keep a reference to the caller buffer it was given', () => {
    const splitter = new JsonStreamSplitter();
    const chunk = Buffer.from('{"a":"bc');
    assert.deepEqual(splitter.push(chunk), []);
    chunk.fill(0x20);
    assert.deepEqual(splitter.push(Buffer.from('d"}')), ['{"a":"bcd"}']);
  });

  it('refuses a message over the size limit, also when it arrives in pieces', () => {
    const whole = new JsonStreamSplitter(16);
    assert.throws(() => whole.push(Buffer.from('{"a":"123456789"}')), /limit of 16 bytes/);
    const pieces = new JsonStreamSplitter(16);
    pieces.push(Buffer.from('{"a":"12345'));
    assert.throws(
      () => pieces.push(Buffer.from('67890123456789')),
      (err: unknown) => err instanceof JsonFramingError && /limit of 16 bytes/.test(err.message),
    );
  });

  it('counts the limit per message, not per stream', () => {
    const splitter = new JsonStreamSplitter(16);
    const message = '{"a":"12345678"}';
    assert.equal(message.length, 16);
    assert.equal(splitter.push(Buffer.from(message.repeat(20))).length, 20);
  });

  it('refuses a byte that cannot start a message, then every further chunk', () => {
    const splitter = new JsonStreamSplitter();
    assert.throws(() => splitter.push(Buffer.from('{"a":1} x{"b":2}')), /got byte 0x78/);
    assert.throws(() => splitter.push(Buffer.from('{"c":3}')), JsonFramingError);
  });

  it('refuses a bare scalar between messages (it cannot be framed)', () => {
    assert.throws(() => new JsonStreamSplitter().push(Buffer.from('42')), JsonFramingError);
  });

  it('refuses a message that is not valid UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.of(0xc3, 0x28), Buffer.from('"}')]);
    assert.throws(() => new JsonStreamSplitter().push(bytes), /not valid UTF-8/);
  });

  it('reports a message still open as pending', () => {
    const splitter = new JsonStreamSplitter();
    splitter.push(Buffer.from('{"a": ['));
    assert.equal(splitter.pending, true);
    splitter.push(Buffer.from(']}'));
    assert.equal(splitter.pending, false);
  });
});
