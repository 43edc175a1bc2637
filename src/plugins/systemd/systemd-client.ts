import {
  callMethod,
  dbusErrorText,
  getAllProperties,
  getProperty,
  isDBusError,
  type MessageBus,
} from '../../dbus/bus.js';
import { ErrorName, OpdbusError } from '../../errors.js';
import type { UnitState } from './plan.js';
import type { LoadedUnitListing, UnitFileListing } from './query.js';

export const SYSTEMD_NAME = 'org.freedesktop.systemd1';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const MANAGER_INTERFACE = 'org.freedesktop.systemd1.Manager';
export const UNIT_INTERFACE = 'org.freedesktop.systemd1.Unit';
const JOB_INTERFACE = 'org.freedesktop.systemd1.Job';
/** A daemon-reload re-reads every unit: on a big machine it takes far longer than a call. */
const RELOAD_TIMEOUT_MS = 90_000;

/** The unit types whose own interface has a Result property (why the unit last failed). */
const RESULT_INTERFACES: Record<string, string> = {
  service: 'org.freedesktop.systemd1.Service',
  socket: 'org.freedesktop.systemd1.Socket',
  mount: 'org.freedesktop.systemd1.Mount',
  automount: 'org.freedesktop.systemd1.Automount',
  swap: 'org.freedesktop.systemd1.Swap',
  timer: 'org.freedesktop.systemd1.Timer',
  path: 'org.freedesktop.systemd1.Path',
  scope: 'org.freedesktop.systemd1.Scope',
};

const NO_UNIT_FILE_ERRORS = new Set([
  'org.freedesktop.DBus.Error.FileNotFound',
  'org.freedesktop.systemd1.NoSuchUnit',
]);

/** What a unit looks like right after a job: enough to tell why it did not come up. */
export interface UnitOutcomeState {
  activeState: string;
  subState: string;
  /** False when a Condition*= setting was not met, so the start was skipped. */
  conditionResult: boolean;
  /** The unit type's Result (success, exit-code, signal, timeout, ...), when it has one. */
  result: string | undefined;
}

/** systemd refused or failed a call; its own message is kept. */
export class SystemdError extends Error {
  constructor(
    message: string,
    /** The D-Bus error name systemd replied with. */
    readonly dbusName: string,
  ) {
    super(message);
    this.name = 'SystemdError';
  }
}

/** Keeps timeouts as they are; turns a D-Bus error reply into systemd's own words. */
function translate(err: unknown, what: string): Error {
  if (err instanceof OpdbusError) return err;
  const text =
    typeof (err as { text?: unknown }).text === 'string'
      ? (err as { text: string }).text
      : dbusErrorText(err);
  if (
    isDBusError(err, 'org.freedesktop.DBus.Error.ServiceUnknown') ||
    isDBusError(err, 'org.freedesktop.DBus.Error.NameHasNoOwner') ||
    String((err as { type?: unknown }).type).startsWith('org.freedesktop.DBus.Error.Spawn.')
  ) {
    return new OpdbusError(ErrorName.PluginUnavailable, `systemd is not reachable: ${text}`);
  }
  return new SystemdError(`${what}: ${text}`, String((err as { type?: unknown }).type));
}

/**
 * A thin client for org.freedesktop.systemd1's Manager, units and jobs. Every
 * call has a timeout (callMethod); signals are the plugin's business (JobWaiter).
 */
export class SystemdClient {
  constructor(private readonly bus: MessageBus) {}

  private async manager(
    member: string,
    signature = '',
    body: unknown[] = [],
    timeoutMs?: number,
  ): Promise<unknown[]> {
    try {
      return await callMethod(
        this.bus,
        {
          destination: SYSTEMD_NAME,
          path: MANAGER_PATH,
          interface: MANAGER_INTERFACE,
          member,
          signature,
          body,
        },
        timeoutMs,
      );
    } catch (err) {
      throw translate(err, member);
    }
  }

  /** Asks systemd to send its signals (JobRemoved, UnitFilesChanged, ...) to this connection. */
  async subscribe(): Promise<void> {
    try {
      await this.manager('Subscribe');
    } catch (err) {
      if (
        err instanceof SystemdError &&
        err.dbusName === 'org.freedesktop.systemd1.AlreadySubscribed'
      )
        return;
      throw err;
    }
  }

  /** The unit's object path; loads the unit if needed (a unit that is not loaded still exists). */
  async loadUnit(name: string): Promise<string> {
    const [path] = await this.manager('LoadUnit', 's', [name]);
    return String(path);
  }

  /** The unit file state as systemd reads it from disk now; null when there is no unit file. */
  async unitFileState(name: string): Promise<string | null> {
    try {
      const [state] = await this.manager('GetUnitFileState', 's', [name]);
      return String(state);
    } catch (err) {
      // ENOENT from systemd's unit file lookup: there is no unit file by that name.
      if (err instanceof SystemdError && NO_UNIT_FILE_ERRORS.has(err.dbusName)) return null;
      throw err;
    }
  }

  private async unitProperties(path: string): Promise<Record<string, unknown>> {
    try {
      return await getAllProperties(this.bus, SYSTEMD_NAME, path, UNIT_INTERFACE);
    } catch (err) {
      throw translate(err, 'GetAll');
    }
  }

  /**
   * A round trip to systemd itself. systemd sends its pending change signals
   * before it reads the next message, and the bus keeps one sender's messages in
   * order: once the reply is here, every signal about a change systemd made
   * before answering has been delivered to this connection.
   */
  async ping(): Promise<void> {
    try {
      await callMethod(
        this.bus,
        {
          destination: SYSTEMD_NAME,
          path: MANAGER_PATH,
          interface: 'org.freedesktop.DBus.Peer',
          member: 'Ping',
        },
        5_000,
      );
    } catch (err) {
      throw translate(err, 'Ping');
    }
  }

  /** LoadUnit, the Unit properties and GetUnitFileState of one unit. */
  async unitState(name: string): Promise<UnitState> {
    return (await this.unitSnapshot(name)).state;
  }

  /** unitState with the unit's object path (the same for every alias of the unit). */
  async unitSnapshot(name: string): Promise<{ path: string; state: UnitState }> {
    const path = await this.loadUnit(name);
    const [props, unitFileState] = await Promise.all([
      this.unitProperties(path),
      this.unitFileState(name),
    ]);
    return {
      path,
      state: {
        loadState: String(props.LoadState),
        activeState: String(props.ActiveState),
        subState: String(props.SubState),
        unitFileState,
        needDaemonReload: props.NeedDaemonReload === true,
      },
    };
  }

  /** Re-reads a unit after a job, with the Result of its type (Service.Result, ...). */
  async unitOutcome(name: string): Promise<UnitOutcomeState> {
    const path = await this.loadUnit(name);
    const props = await this.unitProperties(path);
    const resultInterface = RESULT_INTERFACES[name.slice(name.lastIndexOf('.') + 1)];
    let result: string | undefined;
    if (resultInterface) {
      try {
        result = String(await getProperty(this.bus, SYSTEMD_NAME, path, resultInterface, 'Result'));
      } catch (err) {
        throw translate(err, 'Get Result');
      }
    }
    return {
      activeState: String(props.ActiveState),
      subState: String(props.SubState),
      conditionResult: props.ConditionResult !== false,
      result,
    };
  }

  async listUnitFiles(): Promise<UnitFileListing[]> {
    const [rows] = await this.manager('ListUnitFiles');
    return (rows as [string, string][]).map(([path, state]) => ({ path, state }));
  }

  async listUnits(): Promise<LoadedUnitListing[]> {
    const [rows] = await this.manager('ListUnits');
    return (rows as unknown[][]).map((row) => ({
      name: String(row[0]),
      activeState: String(row[3]),
    }));
  }

  /** Not forced: never replace a symlink that another unit's [Install] section made. */
  async enableUnitFiles(names: string[]): Promise<void> {
    await this.manager('EnableUnitFiles', 'asbb', [names, false, false]);
  }

  async disableUnitFiles(names: string[], runtime: boolean): Promise<void> {
    await this.manager('DisableUnitFiles', 'asb', [names, runtime]);
  }

  /** Not forced: a real unit file in the configuration folder is refused, never overwritten. */
  async maskUnitFiles(names: string[]): Promise<void> {
    await this.manager('MaskUnitFiles', 'asbb', [names, false, false]);
  }

  async unmaskUnitFiles(names: string[], runtime: boolean): Promise<void> {
    await this.manager('UnmaskUnitFiles', 'asb', [names, runtime]);
  }

  /** daemon-reload: systemd answers once it has re-read every unit file. */
  async reload(): Promise<void> {
    await this.manager('Reload', '', [], RELOAD_TIMEOUT_MS);
  }

  /** Queues a start job ("replace" mode) and returns the job's object path. */
  async startUnit(name: string): Promise<string> {
    const [job] = await this.manager('StartUnit', 'ss', [name, 'replace']);
    return String(job);
  }

  async stopUnit(name: string): Promise<string> {
    const [job] = await this.manager('StopUnit', 'ss', [name, 'replace']);
    return String(job);
  }

  /** Cancels a queued or running job; a job that already ended is no error. */
  async cancelJob(jobPath: string): Promise<void> {
    try {
      await callMethod(
        this.bus,
        { destination: SYSTEMD_NAME, path: jobPath, interface: JOB_INTERFACE, member: 'Cancel' },
        5_000,
      );
    } catch (err) {
      if (isDBusError(err, 'org.freedesktop.DBus.Error.UnknownObject')) return;
      throw translate(err, 'Cancel');
    }
  }
}
