import type { InterfaceType } from './schema.js';

/**
 * NetworkManager's names and numbers this plugin uses, from its D-Bus API
 * (NetworkManager 1.42, nm-dbus-interface.h).
 */

/** A value with its D-Bus signature, as NetworkManager takes it in a{sa{sv}} (a variant, unmarshalled). */
export interface Typed {
  signature: string;
  value: unknown;
}

/** Connection settings to send: setting name -> property -> typed value. */
export type SettingsOut = Record<string, Record<string, Typed>>;

/** Connection settings as read, every variant unwrapped into plain values (nested ones too). */
export type SettingsIn = Record<string, Record<string, unknown>>;

/** connection.type for each nmstate type. */
export const CONNECTION_TYPE: Record<InterfaceType, string> = {
  ethernet: '802-3-ethernet',
  'linux-bridge': 'bridge',
  veth: 'veth',
  vlan: 'vlan',
  bond: 'bond',
  dummy: 'dummy',
  'mac-vlan': 'macvlan',
  vxlan: 'vxlan',
};

export function interfaceTypeOfConnection(type: string): InterfaceType | undefined {
  const entry = Object.entries(CONNECTION_TYPE).find(([, nm]) => nm === type);
  return entry?.[0] as InterfaceType | undefined;
}

/** NMDeviceType values of the types this plugin knows. */
export const DEVICE_TYPE: Record<number, InterfaceType> = {
  1: 'ethernet',
  10: 'bond',
  11: 'vlan',
  13: 'linux-bridge',
  18: 'mac-vlan',
  19: 'vxlan',
  20: 'veth',
  22: 'dummy',
};

/** NMDeviceState: the states that matter here. */
export const DeviceState = {
  Unmanaged: 10,
  Unavailable: 20,
  Disconnected: 30,
  Activated: 100,
  Deactivating: 110,
  Failed: 120,
} as const;

/** NMActiveConnectionState. */
export const ActiveState = {
  Unknown: 0,
  Activating: 1,
  Activated: 2,
  Deactivating: 3,
  Deactivated: 4,
} as const;

/** NMSettingsConnectionFlags: a profile NetworkManager made up for a device somebody else configured. */
export const CONNECTION_FLAG_NM_GENERATED = 0x2;
export const CONNECTION_FLAG_EXTERNAL = 0x8;

/** NMSettingsAddConnection2Flags / NMSettingsUpdate2Flags (the same bits for both). */
export const SaveFlag = { ToDisk: 0x1, InMemory: 0x2, BlockAutoconnect: 0x20 } as const;
export type Persistence = 'to-disk' | 'in-memory';

/**
 * Where the profile is saved, and no autoconnect on this write: otherwise
 * NetworkManager activates a new profile by itself the moment it is added,
 * and the apply's own activation then tears that one down again (seen:
 * a bridge port failing with "dependency-failed" before coming up).
 */
export function saveFlags(persistence: Persistence): number {
  return (
    (persistence === 'to-disk' ? SaveFlag.ToDisk : SaveFlag.InMemory) | SaveFlag.BlockAutoconnect
  );
}

/** NMCheckpointCreateFlags. */
export const CheckpointFlag = {
  DestroyAll: 0x1,
  /** Connections added after the checkpoint are deleted on rollback. */
  DeleteNewConnections: 0x2,
  /** Devices that appeared after the checkpoint are disconnected (software ones deleted) on rollback. */
  DisconnectNewDevices: 0x4,
  AllowOverlapping: 0x8,
} as const;

/** NMRollbackResult per device. */
export const RollbackResult = {
  Ok: 0,
  ErrNoDevice: 1,
  ErrDeviceUnmanaged: 2,
  ErrFailed: 3,
} as const;

/** macvlan.mode values. */
export const MAC_VLAN_MODE_NUMBER = {
  vepa: 1,
  bridge: 2,
  private: 3,
  passthru: 4,
  source: 5,
} as const;
