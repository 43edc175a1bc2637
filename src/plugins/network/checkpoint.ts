import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { boundedText, errorMessage, retryableFailure } from '../../errors.js';
import { dbusErrorText } from '../../dbus/bus.js';
import type { NmCallOptions, NmClient } from './nm-client.js';
import { CheckpointFlag, RollbackResult } from './nm-types.js';

/** A checkpoint this plugin took: its path and NetworkManager's creation stamp (paths are reused after a restart). */
export interface CheckpointRecord {
  path: string;
  created: string;
}

/**
 * Rollback deletes the profiles added since the checkpoint, and with them the
 * software devices NetworkManager created for them: an apply that created a
 * bridge leaves no bridge behind. NetworkManager 1.42 accepts
 * DISCONNECT_NEW_DEVICES only with an empty device list (which means every
 * device), so it is set only then.
 */
export function checkpointFlags(devices: readonly string[]): number {
  return devices.length === 0
    ? CheckpointFlag.DeleteNewConnections | CheckpointFlag.DisconnectNewDevices
    : CheckpointFlag.DeleteNewConnections;
}

/**
 * NetworkManager's checkpoints, as this plugin takes them around an apply.
 * Every checkpoint taken is written to a record file (when the plugin has a
 * state folder) until it is destroyed or rolled back, so that one left behind
 * by a daemon that died mid-apply is found and destroyed at the next start.
 * (NetworkManager would roll it back by itself when its timeout passes, and
 * meanwhile refuses any new checkpoint over the same devices.)
 */
export class CheckpointKeeper {
  private readonly live = new Map<string, CheckpointRecord>();

  constructor(
    private readonly client: NmClient,
    private readonly recordFile: string | undefined,
    private readonly log: Logger,
  ) {}

  private async readRecords(): Promise<CheckpointRecord[]> {
    if (!this.recordFile) return [];
    try {
      const parsed: unknown = JSON.parse(await readFile(this.recordFile, 'utf8'));
      if (!Array.isArray(parsed)) return [];
      return parsed.filter(
        (item): item is CheckpointRecord =>
          typeof item === 'object' &&
          item !== null &&
          typeof (item as CheckpointRecord).path === 'string' &&
          typeof (item as CheckpointRecord).created === 'string',
      );
    } catch {
      return [];
    }
  }

  private async writeRecords(): Promise<void> {
    if (!this.recordFile) return;
    const temporary = `${this.recordFile}.tmp`;
    await writeFile(temporary, `${JSON.stringify([...this.live.values()])}\n`, { mode: 0o600 });
    await rename(temporary, this.recordFile);
  }

  private async createdStamp(path: string, options: NmCallOptions): Promise<string> {
    const properties = await this.client.checkpointProperties(path, options);
    // Created is an int64 (CLOCK_BOOTTIME ms), a BigInt from dbus-next.
    const created = properties.Created;
    return typeof created === 'bigint' || typeof created === 'number' ? created.toString() : '';
  }

  /**
   * Destroys the checkpoints a previous run of this daemon recorded and that
   * still exist with the same creation stamp; others' checkpoints are left alone.
   * Returns the paths destroyed.
   */
  async destroyStale(options: NmCallOptions): Promise<string[]> {
    // Without a record file nothing survives a crash, so nothing can be found.
    if (!this.recordFile) return [];
    const recorded = await this.readRecords();
    if (recorded.length === 0) return [];
    const existing = new Set(await this.client.checkpoints(options));
    const destroyed: string[] = [];
    for (const record of recorded) {
      // One this process holds is not stale: an apply is using it.
      if (this.live.has(record.path) || !existing.has(record.path)) continue;
      if ((await this.createdStamp(record.path, options)) !== record.created) continue;
      await this.client.checkpointDestroy(record.path, options);
      this.log.warn({ checkpoint: record.path }, 'stale network checkpoint destroyed');
      destroyed.push(record.path);
    }
    await this.writeRecords();
    return destroyed;
  }

  /**
   * Takes a checkpoint of `devices` that NetworkManager rolls back by itself
   * after `rollbackTimeoutS` unless destroyed first. A refusal (devices already
   * in another checkpoint) is retryable: the other one ends by itself.
   */
  async create(
    devices: readonly string[],
    rollbackTimeoutS: number,
    options: NmCallOptions,
  ): Promise<CheckpointRecord> {
    let path: string;
    try {
      path = await this.client.checkpointCreate(
        devices,
        rollbackTimeoutS,
        checkpointFlags(devices),
        options,
      );
    } catch (err) {
      throw retryableFailure(
        `NetworkManager refused a checkpoint: ${boundedText(dbusErrorText(err))}`,
      );
    }
    const record = { path, created: await this.createdStamp(path, options).catch(() => '') };
    this.live.set(path, record);
    try {
      await this.writeRecords();
    } catch (err) {
      // Unrecorded, a crash would leave it behind unnoticed: give it up before any change.
      await this.destroy(record, options).catch(() => undefined);
      throw retryableFailure(`cannot record the network checkpoint: ${errorMessage(err)}`);
    }
    return record;
  }

  /**
   * Never fails: a record left in the file for a checkpoint that is gone is
   * harmless (destroyStale checks it still exists, with the same stamp).
   */
  private async forget(record: CheckpointRecord): Promise<void> {
    this.live.delete(record.path);
    await this.writeRecords().catch((err: unknown) =>
      this.log.warn({ err: errorMessage(err) }, 'cannot update the network checkpoint record'),
    );
  }

  async destroy(record: CheckpointRecord, options: NmCallOptions): Promise<void> {
    await this.client.checkpointDestroy(record.path, options);
    await this.forget(record);
  }

  /** Rolls back; returns the devices NetworkManager could not restore, as text (empty: all restored). */
  async rollback(record: CheckpointRecord, options: NmCallOptions): Promise<string[]> {
    try {
      const results = await this.client.checkpointRollback(record.path, options);
      return Object.entries(results)
        .filter(([, result]) => result !== RollbackResult.Ok)
        .map(([device, result]) => `${device}: rollback result ${result}`);
    } catch (err) {
      this.log.error(
        { checkpoint: record.path, err: errorMessage(err) },
        'network rollback failed',
      );
      return [`rollback failed: ${boundedText(dbusErrorText(err))}`];
    } finally {
      await this.forget(record);
    }
  }
}
