import { definePlugin } from '../definition.js';
import type { ScalarSetting } from '../shared/scalar-settings.js';
import { ScalarSettingsPlugin } from '../shared/scalar-settings-plugin.js';
import { HostnameSection, PrettyHostname, StaticHostname } from './schema.js';

const HOSTNAME1 = {
  busName: 'org.freedesktop.hostname1',
  path: '/org/freedesktop/hostname1',
  interface: 'org.freedesktop.hostname1',
};

/** Static before pretty: the order an administrator would set them by hand. */
export const HOSTNAME_SETTINGS: readonly ScalarSetting[] = [
  {
    field: 'static',
    property: 'StaticHostname',
    setter: 'SetStaticHostname',
    signature: 'sb',
    args: (value) => [value, false],
    schema: StaticHostname,
  },
  {
    field: 'pretty',
    property: 'PrettyHostname',
    setter: 'SetPrettyHostname',
    signature: 'sb',
    args: (value) => [value, false],
    schema: PrettyHostname,
  },
];

export const hostnamePlugin = definePlugin({
  name: 'hostname',
  summary: 'Static and pretty host names through org.freedesktop.hostname1.',
  schema: HostnameSection,
  create: (host) =>
    new ScalarSettingsPlugin<HostnameSection>({
      host,
      address: HOSTNAME1,
      settings: HOSTNAME_SETTINGS,
    }),
});
