import type { PluginDefinition } from '../definition.js';
import { LocalePlugin } from './plugin.js';
import { LocaleSection } from './schema.js';

export const localePlugin: PluginDefinition = {
  name: 'locale',
  schema: LocaleSection,
  create: (deps) =>
    new LocalePlugin({ bus: deps.systemBus, router: deps.systemRouter, log: deps.log }),
};
