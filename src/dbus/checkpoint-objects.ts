import type { CheckpointRecord } from '../engine/checkpoints/checkpoint.js';
import type { Requester } from '../engine/jobs/job.js';
import type { StateManager } from '../engine/state-manager.js';
import { checkpointPath, jobPath, OBJECT_PATH } from './api.js';
import { Action, type Authorizer } from './authorization.js';
import type { InterfaceSpec } from './interface-xml.js';
import type { MethodHandler, ServiceHost } from './service-host.js';
import { ErrorName, OpdbusError } from '../errors.js';

/** Finished checkpoints stay readable (their final State) this many at most. */
const RETAINED = 10;

/**
 * One object per checkpoint (`/org/opdbus/StateManager/checkpoint/ID`): Confirm,
 * Rollback and Extend (changing methods: root or polkit), and its properties
 * with PropertiesChanged; CheckpointRemoved on the manager when it is over.
 */
export class CheckpointObjects {
  private readonly exported: number[] = [];

  constructor(
    private readonly host: ServiceHost,
    private readonly engine: StateManager,
    private readonly authorizer: Authorizer,
    private readonly spec: InterfaceSpec,
    private readonly managerSpec: InterfaceSpec,
  ) {}

  start(): void {
    this.engine.events.on('checkpoint-changed', this.onChanged);
    this.engine.events.on('checkpoint-removed', this.onRemoved);
    const current = this.engine.checkpoints.current;
    if (current) this.export(current);
  }

  stop(): void {
    this.engine.events.off('checkpoint-changed', this.onChanged);
    this.engine.events.off('checkpoint-removed', this.onRemoved);
  }

  private properties(record: CheckpointRecord): Record<string, unknown> {
    const current = this.engine.checkpoints.current?.id === record.id;
    const { job, rollbackJob } = current ? this.engine.checkpoints.jobs() : {};
    return {
      Id: record.id,
      State: record.state,
      Deadline: BigInt(Math.round(record.deadline)) * 1000n,
      Job: job ? jobPath(job.id) : '/',
      RollbackJob: rollbackJob ? jobPath(rollbackJob.id) : '/',
      Snapshot: JSON.stringify(
        record.snapshot.map(({ plugin, restore, section }) => ({ plugin, restore, section })),
      ),
      Failed: JSON.stringify(record.failed),
    };
  }

  private export(record: CheckpointRecord): void {
    // Confirm, Rollback and Extend decide the machine's fate: root or polkit.
    const changing =
      (run: (by: Requester, args: unknown[]) => Promise<void>): MethodHandler =>
      async (args, call) => {
        const by = await this.authorizer.authorize(
          call.sender,
          Action.checkpoint,
          call.interactive,
        );
        await run(by, args);
        return [];
      };
    this.host.export(checkpointPath(record.id), [
      {
        spec: this.spec,
        methods: {
          Confirm: changing((by) => this.confirmable(record).confirm(by)),
          Rollback: changing((by) => this.confirmable(record).rollback(by)),
          Extend: changing((by, args) => this.confirmable(record).extend(Number(args[0]), by)),
        },
        properties: () => this.properties(record),
      },
    ]);
    if (!this.exported.includes(record.id)) this.exported.push(record.id);
    while (this.exported.length > RETAINED)
      this.host.unexport(checkpointPath(this.exported.shift() as number));
  }

  /** The checkpoints, if `record` is still the pending one; else NoCheckpoint. */
  private confirmable(record: CheckpointRecord): StateManager['checkpoints'] {
    if (this.engine.checkpoints.pending?.id !== record.id)
      throw new OpdbusError(
        ErrorName.NoCheckpoint,
        `checkpoint ${record.id} is no longer pending (${record.state})`,
      );
    return this.engine.checkpoints;
  }

  private readonly onChanged = (record: CheckpointRecord, action: string): void => {
    if (action === 'created') this.export(record);
    else
      this.host.emitPropertiesChanged(
        checkpointPath(record.id),
        this.spec,
        this.properties(record),
      );
  };

  private readonly onRemoved = (record: CheckpointRecord, outcome: string): void => {
    this.host.emitPropertiesChanged(checkpointPath(record.id), this.spec, this.properties(record));
    this.host.emitSignal(OBJECT_PATH, this.managerSpec, 'CheckpointRemoved', [
      record.id,
      checkpointPath(record.id),
      outcome,
    ]);
  };
}
