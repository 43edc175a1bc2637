import type { Plugin } from '../../engine/plugin.js';
import type { PluginDefinition } from '../definition.js';
import type { ObservedSettings, ScalarSetting } from '../shared/scalar-settings.js';
import { ScalarSettingsPlugin } from '../shared/scalar-settings-plugin.js';
import type { HostSettingsDependencies } from '../shared/settings-service.js';
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

export function createTimedatePlugin(
  deps: HostSettingsDependencies,
): Plugin<TimedateSection, ObservedSettings> {
  return new ScalarSettingsPlugin<TimedateSection>({
    ...deps,
    name: 'timedate',
    schema: TimedateSection,
    address: TIMEDATE1,
    settings: TIMEDATE_SETTINGS,
  });
}

export const timedatePlugin: PluginDefinition = {
  name: 'timedate',
  schema: TimedateSection,
  create: (deps) =>
    createTimedatePlugin({ bus: deps.systemBus, router: deps.systemRouter, log: deps.log }),
};
