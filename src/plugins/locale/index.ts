import { definePlugin } from '../definition.js';
import { LocalePlugin } from './plugin.js';
import { LocaleSection } from './schema.js';

export const localePlugin = definePlugin({
  name: 'locale',
  summary: 'System locale variables through org.freedesktop.locale1.',
  schema: LocaleSection,
  // SetLocale can take minutes: Debian's localed runs locale-gen for a locale
  // that is not generated yet, one locale after another.
  deadlines: { applyMs: 10 * 60_000 },
  create: (host) => new LocalePlugin(host),
});
