import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import type formatsPlugin from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { PACKAGE_ROOT } from '../version.js';

const load = createRequire(import.meta.url);

/**
 * The one set of ajv options, for compiling at run time and at build time alike.
 * `verbose` keeps parentSchema in errors (the problems name a pattern's title).
 */
export function newAjv(forBuild = false): Ajv2020 {
  // Loaded on first use: with the build's validators the daemon never needs ajv's
  // compiler (about 100 ms of module loading at start-up).
  const { Ajv2020: Ajv } = load('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const formats = load('ajv-formats') as typeof formatsPlugin;
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    ...(forBuild ? { code: { source: true } } : {}),
  });
  // ajv-formats is CommonJS: its function is the module's `default`.
  formats.default(ajv);
  return ajv;
}

/** Bumped when newAjv's options change: old compiled validators then no longer match. */
const OPTIONS_VERSION = 'ajv2020-allErrors-verbose-strict-formats-1';

/**
 * Compiling the document schema costs 150–350 ms, most of the daemon's start-up
 * (docs/performance.md). `npm run build` compiles every schema the program uses
 * into `dist/validators/DIGEST.cjs` (scripts/compile-validators.ts), named by a
 * digest of the schema and the options, so a validator is used only for exactly
 * the schema it was compiled from; any other schema (a test's plugin, a source
 * run under tsx) is compiled at run time as before.
 */
export function schemaDigest(schema: TSchema): string {
  return createHash('sha256')
    .update(OPTIONS_VERSION)
    .update(JSON.stringify(schema))
    .digest('hex')
    .slice(0, 24);
}

/** Where the build writes them (also found by a source run under tsx). */
export const COMPILED_DIR = fileURLToPath(new URL('dist/validators/', PACKAGE_ROOT));

/** The build's validator for exactly this schema, if there is one. */
export function precompiledValidator(schema: TSchema): ValidateFunction | undefined {
  const file = `${COMPILED_DIR}${schemaDigest(schema)}.cjs`;
  if (!existsSync(file)) return undefined;
  return load(file) as ValidateFunction;
}
