// Writes docs/schema/*.json from the plugins' schemas: `npm run schemas`.
// test/unit/published-schemas.test.ts fails when the files are stale.
import { writeFile } from 'node:fs/promises';
import { publishedSchemas } from '../src/document/published-schemas.js';
import { PLUGINS } from '../src/plugins/registry.js';

const dir = new URL('../docs/schema/', import.meta.url);
for (const [name, text] of publishedSchemas(PLUGINS)) {
  await writeFile(new URL(name, dir), text);
  console.log(`wrote docs/schema/${name}`);
}
