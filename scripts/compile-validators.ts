// Part of `npm run build`: compiles every schema the daemon and the CLI check
// into dist/validators/DIGEST.cjs (ajv's standalone code), so that start-up loads
// validators instead of compiling them (see src/document/compiled-schemas.ts).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { configSchema } from '../src/daemon/config.js';
import { COMPILED_DIR, newAjv, schemaDigest } from '../src/document/compiled-schemas.js';
import { buildDocumentSchema } from '../src/document/document.js';
import { CheckpointRecord } from '../src/engine/checkpoints/checkpoint.js';
import { RolloutSettingsSchema } from '../src/fleet/layer-value.js';
import { NodeReportSchema } from '../src/fleet/report.js';
import { SlotHolderSchema } from '../src/fleet/rollout.js';
import { RepositorySpec } from '../src/plugins/packagekit/repositories/schema.js';
import { PLUGINS } from '../src/plugins/registry.js';

/** Every schema a SchemaChecker is made from (a schema missing here is compiled at run time). */
const schemas: TSchema[] = [
  buildDocumentSchema(PLUGINS),
  configSchema(PLUGINS),
  ...PLUGINS.flatMap((plugin) => (plugin.config ? [plugin.config.schema] : [])),
  CheckpointRecord,
  RolloutSettingsSchema,
  NodeReportSchema,
  SlotHolderSchema,
  RepositorySpec,
];

const dir = COMPILED_DIR;
mkdirSync(dir, { recursive: true });
for (const file of readdirSync(dir)) rmSync(join(dir, file));
for (const schema of schemas) {
  const ajv = newAjv(true);
  const code = standaloneCode.default(ajv, ajv.compile(schema));
  writeFileSync(join(dir, `${schemaDigest(schema)}.cjs`), code);
}
console.log(`compiled ${schemas.length} schemas into ${dir}`);
