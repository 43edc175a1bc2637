import type { Plugin } from '../../engine/plugin.js';
import type { PluginDefinition } from '../definition.js';
import type { ObservedSettings, ScalarSetting } from '../shared/scalar-settings.js';
import { ScalarSettingsPlugin } from '../shared/scalar-settings-plugin.js';
import type { HostSettingsDependencies } from '../shared/settings-service.js';
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

export function createHostnamePlugin(
  deps: HostSettingsDependencies,
): Plugin<HostnameSection, ObservedSettings> {
  return new ScalarSettingsPlugin<HostnameSection>({
    ...deps,
    name: 'hostname',
    schema: HostnameSection,
    address: HOSTNAME1,
    settings: HOSTNAME_SETTINGS,
  });
}

export const hostnamePlugin: PluginDefinition = {
  name: 'hostname',
  schema: HostnameSection,
  create: (deps) =>
    createHostnamePlugin({ bus: deps.systemBus, router: deps.systemRouter, log: deps.log }),
};
