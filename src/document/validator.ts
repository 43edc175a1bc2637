import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { TSchema } from '@sinclair/typebox';
import { newAjv, precompiledValidator } from './compiled-schemas.js';
import { ErrorName, OpdbusError } from '../errors.js';
import type { DesiredDocument } from './document.js';

/** Limits checked before parsing the schema; documented in docs/document-format.md. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;
export const MAX_DOCUMENT_DEPTH = 32;
const MAX_REPORTED_PROBLEMS = 50;

function invalid(problems: string[]): OpdbusError {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
  const more = problems.length - shown.length;
  const lines = shown.map((problem) => `  ${problem}`);
  if (more > 0) lines.push(`  ... and ${more} more`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new OpdbusError(
    ErrorName.InvalidDocument,
    `invalid document (${count}):\n${lines.join('\n')}`,
  );
}

/** Nesting depth of a parsed JSON value, without recursion (a hostile document can be deep). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_DOCUMENT_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

function pathOf(error: ErrorObject): string {
  return error.instancePath === '' ? '/' : error.instancePath;
}

function describe(error: ErrorObject): string {
  const path = pathOf(error);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const parent = error.parentSchema as {
        patternProperties?: Record<string, unknown>;
        properties?: object;
      };
      const pattern = Object.keys(parent?.patternProperties ?? {})[0];
      if (pattern) return `${path}: '${name}' is not a valid name (must match ${pattern})`;
      const known = Object.keys(parent?.properties ?? {}).join(', ');
      const what = path === '/plugins' ? 'plugin' : 'field';
      return `${path}: unknown ${what} '${name}' (known: ${known || 'none'})`;
    }
    case 'enum':
      return `${path}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${path}: must be ${JSON.stringify(params.allowedValue)}`;
    case 'pattern':
    case 'maxItems': {
      // A schema may name what it wants in words (its title) instead of a long regular expression.
      const title = (error.parentSchema as { title?: unknown } | undefined)?.title;
      if (typeof title === 'string') return `${path}: must be ${title}`;
      return `${path}: ${error.message ?? error.keyword}`;
    }
    case 'required':
      return `${path}: missing required field '${String(params.missingProperty)}'`;
    default:
      return `${path}: ${error.message ?? error.keyword}`;
  }
}

/**
 * A schema's validator, answering with every problem as '/path: problem': the
 * build's (compiled-schemas.ts) when there is one, else compiled at first use,
 * so that a schema nobody checks costs nothing.
 */
export class SchemaChecker {
  private compiled: ValidateFunction | undefined;

  constructor(private readonly schema: TSchema) {}

  private get validate(): ValidateFunction {
    this.compiled ??= precompiledValidator(this.schema) ?? newAjv().compile(this.schema);
    return this.compiled;
  }

  problems(value: unknown): string[] {
    const validate = this.validate;
    if (validate(value)) return [];
    const errors = validate.errors ?? [];
    // "must match then/else schema" only repeats the error found inside then/else.
    const meaningful = errors.filter((error) => error.keyword !== 'if');
    return [...new Set((meaningful.length > 0 ? meaningful : errors).map(describe))];
  }
}

/** Turns text into a frozen, schema-valid document, or throws InvalidDocument listing every problem. */
export class DocumentValidator {
  private readonly checker: SchemaChecker;

  constructor(schema: TSchema) {
    this.checker = new SchemaChecker(schema);
  }

  parse(text: string): DesiredDocument {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_DOCUMENT_BYTES) {
      throw invalid([`/: document is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}`]);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw invalid([`/: not valid JSON: ${err instanceof Error ? err.message : String(err)}`]);
    }
    return this.check(value);
  }

  /** Validates an already parsed value (e.g. a persisted document). */
  check(value: unknown): DesiredDocument {
    if (depthOf(value) > MAX_DOCUMENT_DEPTH) {
      throw invalid([`/: nested deeper than ${MAX_DOCUMENT_DEPTH} levels`]);
    }
    const problems = this.checker.problems(value);
    if (problems.length > 0) throw invalid(problems);
    // Only what Apply acts on becomes desired state ($schema and Query's notes do not).
    const { version, plugins } = value as DesiredDocument;
    return deepFreeze({ version, plugins });
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
