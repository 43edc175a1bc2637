import { Type, type TSchema } from '@sinclair/typebox';

/** The only document format version this daemon reads. */
export const DOCUMENT_VERSION = 1;

/** A validated desired-state document. Plugin sections are checked by each plugin's schema. */
export interface DesiredDocument {
  version: typeof DOCUMENT_VERSION;
  plugins: Readonly<Record<string, unknown>>;
}

export const SCHEMA_BASE_URL = 'https://opdbus.org/schema';

/**
 * The schema of a whole document, composed from the registered plugins' schemas:
 * an unknown plugin or field is an error, never silently ignored.
 */
export function buildDocumentSchema(
  plugins: readonly { name: string; schema: TSchema }[],
): TSchema {
  const sections: Record<string, TSchema> = {};
  for (const plugin of plugins) sections[plugin.name] = Type.Optional(plugin.schema);
  return Type.Object(
    {
      $schema: Type.Optional(
        Type.String({ description: 'The JSON Schema an editor should use; ignored by op-dbus.' }),
      ),
      version: Type.Literal(DOCUMENT_VERSION, { description: 'Document format version.' }),
      unreadable: Type.Optional(
        Type.Record(Type.String(), Type.String(), {
          description:
            'Set by Query for plugins it could not read, with the reason; ignored by Apply.',
        }),
      ),
      plugins: Type.Object(sections, {
        additionalProperties: false,
        description: 'One section per plugin; a plugin that is absent is left alone.',
      }),
    },
    {
      $id: `${SCHEMA_BASE_URL}/op-dbus.schema.json`,
      title: 'op-dbus desired-state document',
      additionalProperties: false,
    },
  );
}

export function emptyDocument(): DesiredDocument {
  return { version: DOCUMENT_VERSION, plugins: {} };
}
