/**
 * Frames a byte stream of concatenated JSON texts with no delimiter between them,
 * as OVSDB's JSON-RPC sends them (RFC 7047 section 3: messages are not
 * newline-delimited, and a message may arrive in any number of pieces).
 *
 * The scanner works on bytes, not characters: every byte a framing decision
 * depends on (braces, brackets, quote, backslash) is ASCII, and in UTF-8 no byte
 * of a multi-byte character is below 0x80, so a character split across two chunks
 * can never be mistaken for one of them. Only a complete message is decoded.
 */

/** The stream broke the framing rules or a limit: the connection cannot be trusted further. */
export class JsonFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonFramingError';
  }
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Default per-message limit: an Open_vSwitch monitor reply for thousands of ports fits easily. */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/**
 * Splits a stream into complete top-level JSON objects or arrays (JSON-RPC
 * messages are objects; a bare scalar cannot be framed without a delimiter and
 * is refused). It does not check the JSON itself: JSON.parse does that on each
 * complete text, so a mismatched bracket is caught there.
 */
export class JsonStreamSplitter {
  private pieces: Buffer[] = [];
  private messageBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private failed = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** True when a message has begun and not yet ended. */
  get pending(): boolean {
    return this.depth > 0;
  }

  /**
   * Feeds one chunk and returns the texts of the messages it completed, in order.
   * Throws JsonFramingError on bytes between messages that cannot start one, on a
   * message over the size limit, or on a message that is not valid UTF-8; after
   * that the splitter refuses every further chunk.
   */
  push(chunk: Uint8Array): string[] {
    if (this.failed) throw new JsonFramingError('the stream already failed to frame');
    try {
      return this.scan(chunk);
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  private scan(chunk: Uint8Array): string[] {
    const messages: string[] = [];
    let start = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (this.depth === 0) {
        if (isWhitespace(byte)) continue;
        if (byte !== OPEN_BRACE && byte !== OPEN_BRACKET) {
          throw new JsonFramingError(
            `expected '{' or '[' to start a message, got byte 0x${byte.toString(16).padStart(2, '0')}`,
          );
        }
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
        continue;
      }
      if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 0) {
          this.checkSize(i + 1 - start);
          messages.push(this.finish(chunk.subarray(start, i + 1)));
          start = -1;
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      const rest = chunk.subarray(start);
      this.checkSize(rest.length);
      // Copy: the caller may reuse its buffer, and a subarray would keep the whole chunk alive.
      this.pieces.push(Buffer.from(rest));
      this.messageBytes += rest.length;
    }
    return messages;
  }

  /** `more` bytes of the current message are about to be kept or completed. */
  private checkSize(more: number): void {
    if (this.messageBytes + more > this.maxMessageBytes) {
      throw new JsonFramingError(
        `a message exceeds the limit of ${this.maxMessageBytes} bytes (${this.messageBytes + more} bytes so far)`,
      );
    }
  }

  private finish(tail: Uint8Array): string {
    const bytes = this.pieces.length === 0 ? tail : Buffer.concat([...this.pieces, tail]);
    this.pieces = [];
    this.messageBytes = 0;
    try {
      return this.decoder.decode(bytes);
    } catch {
      throw new JsonFramingError('a message is not valid UTF-8');
    }
  }
}
