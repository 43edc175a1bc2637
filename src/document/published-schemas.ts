import type { TSchema } from '@sinclair/typebox';
import { buildDocumentSchema } from './document.js';

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/**
 * The schemas published under docs/schema/ for editors: the whole document and
 * one per plugin, as JSON (TypeBox's symbols dropped).
 */
export function publishedSchemas(
  plugins: readonly { name: string; schema: TSchema }[],
): Map<string, string> {
  const files = new Map<string, string>();
  const render = (schema: TSchema): string =>
    `${JSON.stringify({ $schema: DIALECT, ...schema }, null, 2)}\n`;
  files.set('op-dbus.schema.json', render(buildDocumentSchema(plugins)));
  for (const plugin of plugins) files.set(`${plugin.name}.schema.json`, render(plugin.schema));
  return files;
}
