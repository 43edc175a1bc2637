import { definePlugin } from '../definition.js';
import type { ScalarSetting } from '../shared/scalar-settings.js';
import { ScalarSettingsPlugin } from '../shared/scalar-settings-plugin.js';
import { Ntp, TimedateSection, Timezone } from './schema.js';

const TIMEDATE1 = {
  busName: 'org.freedesktop.timedate1',
  path: '/org/freedesktop/timedate1',
  interface: 'org.freedesktop.timedate1',
};

/**
 * Time zone first: it works on any machine, while SetNTP needs systemd-timesyncd
 * (and systemd to start it) and may fail alone.
 */
export const TIMEDATE_SETTINGS: readonly ScalarSetting[] = [
  {
    field: 'timezone',
    property: 'Timezone',
    setter: 'SetTimezone',
    signature: 'sb',
    args: (value) => [value, false],
    schema: Timezone,
  },
  {
    field: 'ntp',
    property: 'NTP',
    setter: 'SetNTP',
    signature: 'bb',
    args: (value) => [value, false],
    schema: Ntp,
  },
];

export const timedatePlugin = definePlugin({
  name: 'timedate',
  summary: 'Time zone and NTP through org.freedesktop.timedate1.',
  schema: TimedateSection,
  create: (host) =>
    new ScalarSettingsPlugin<TimedateSection>({
      host,
      address: TIMEDATE1,
      settings: TIMEDATE_SETTINGS,
    }),
});
