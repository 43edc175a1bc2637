import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import dbus from 'dbus-next';
import { pino } from 'pino';
import { connectBus, type MessageBus } from '../../src/dbus/bus.js';
import { parseInterfaces, type InterfaceSpec } from '../../src/dbus/interface-xml.js';
import { ServiceHost } from '../../src/dbus/service-host.js';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/dbus/api.js';
import type { SystemBus } from '../harness/system-bus.js';

const API_XML = fileURLToPath(
  new URL('../../dbus-interfaces/org.opdbus.StateManager.xml', import.meta.url),
);
export const CHECKPOINT_INTERFACE = 'org.opdbus.StateManager.Checkpoint';
export const CHECKPOINT_PATH = `${OBJECT_PATH}/checkpoint/1`;

/** The confirm/rollback members as the confirm/rollback issue proposes them. */
const MANAGER_ADDITIONS = `
    <method name="ApplyConfirmed">
      <arg name="document" type="s" direction="in"/>
      <arg name="timeout_seconds" type="u" direction="in"/>
      <arg name="job" type="o" direction="out"/>
      <arg name="checkpoint" type="o" direction="out"/>
    </method>
    <signal name="CheckpointRemoved">
      <arg name="id" type="u"/><arg name="checkpoint" type="o"/><arg name="outcome" type="s"/>
    </signal>
    <property name="PendingCheckpoint" type="o" access="read"/>`;
const CHECKPOINT_XML = `
  <interface name="${CHECKPOINT_INTERFACE}">
    <method name="Confirm"/>
    <method name="Rollback"/>
    <method name="Extend"><arg name="seconds" type="u" direction="in"/></method>
    <property name="Id" type="u" access="read"/>
    <property name="State" type="s" access="read"/>
    <property name="Deadline" type="t" access="read"/>
    <property name="Job" type="o" access="read"/>
    <property name="RollbackJob" type="o" access="read"/>
  </interface>`;

export interface FakeCheckpointDaemon {
  /** Method calls received, in order: [member, ...args]. */
  calls: unknown[][];
  stop(): void;
}

/**
 * A stand-in for a future op-dbus with confirm/rollback (no daemon has it yet): the
 * real interface XML plus the proposed members, answering just enough for the
 * page: its reads, ApplyConfirmed (one pending checkpoint, no real job), Confirm.
 */
export async function startFakeCheckpointDaemon(bus: SystemBus): Promise<FakeCheckpointDaemon> {
  const xml = (await readFile(API_XML, 'utf8'))
    .replace(
      `<interface name="${MANAGER_INTERFACE}">`,
      `<interface name="${MANAGER_INTERFACE}">${MANAGER_ADDITIONS}`,
    )
    .replace('</node>', `${CHECKPOINT_XML}\n</node>`);
  const specs = parseInterfaces(xml);
  const manager = specs.get(MANAGER_INTERFACE) as InterfaceSpec;
  const checkpoint = specs.get(CHECKPOINT_INTERFACE) as InterfaceSpec;
  const connection: MessageBus = await connectBus(bus.address);
  const host = new ServiceHost(connection, pino({ level: 'silent' }), OBJECT_PATH);
  const calls: unknown[][] = [];
  const record = (member: string, args: unknown[]): void => void calls.push([member, ...args]);
  let pending = '/';
  let state = 'pending';
  const deadline = BigInt(Date.now() + 600_000) * 1000n;

  host.export(OBJECT_PATH, [
    {
      spec: manager,
      methods: {
        GetDesiredState: () => ['{"version":1,"plugins":{}}'],
        GetHistory: () => ['[]'],
        VerifyHistory: () => ['{"ok":true,"records":0}'],
        ApplyConfirmed: (args) => {
          record('ApplyConfirmed', args);
          host.export(CHECKPOINT_PATH, [
            { spec: checkpoint, methods: checkpointMethods, properties: checkpointProperties },
          ]);
          pending = CHECKPOINT_PATH;
          host.emitPropertiesChanged(OBJECT_PATH, manager, { PendingCheckpoint: pending });
          return [`${OBJECT_PATH}/job/1`, CHECKPOINT_PATH];
        },
      },
      properties: () => ({
        Version: 'fake',
        Status: 'idle',
        Plugins: [],
        DesiredGeneration: 1n,
        AppliedGeneration: 1n,
        LastReconcile: 0n,
        DriftCount: 0,
        Conditions: '{}',
        PendingCheckpoint: pending,
      }),
    },
  ]);
  const checkpointProperties = (): Record<string, unknown> => ({
    Id: 1,
    State: state,
    Deadline: deadline,
    Job: `${OBJECT_PATH}/job/1`,
    RollbackJob: '/',
  });
  const checkpointMethods = {
    Confirm: (args: unknown[]) => {
      record('Confirm', args);
      state = 'confirmed';
      pending = '/';
      host.emitPropertiesChanged(CHECKPOINT_PATH, checkpoint, { State: state });
      host.emitPropertiesChanged(OBJECT_PATH, manager, { PendingCheckpoint: pending });
      host.emitSignal(OBJECT_PATH, manager, 'CheckpointRemoved', [1, CHECKPOINT_PATH, state]);
      return [];
    },
  };
  await connection.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
  return {
    calls,
    stop() {
      host.stop();
      connection.disconnect();
    },
  };
}
