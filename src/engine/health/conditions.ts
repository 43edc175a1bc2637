/**
 * Kubernetes-style conditions for the Conditions property: each says True or False
 * with a machine-readable reason, a human message, and when it last flipped.
 */
export type ConditionType = 'Ready' | 'Progressing' | 'Degraded' | 'Drifted' | 'FleetConnected';

export interface Condition {
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** FleetConnected is there only on a node of a fleet (set once the fleet starts). */
export class Conditions {
  private readonly conditions: Partial<Record<ConditionType, Condition>> &
    Record<Exclude<ConditionType, 'FleetConnected'>, Condition>;

  constructor(now: Date = new Date()) {
    const initial = (reason: string, message: string): Condition => ({
      status: 'False',
      reason,
      message,
      lastTransitionTime: now.toISOString(),
    });
    this.conditions = {
      Ready: initial('Starting', 'the daemon is starting'),
      Progressing: initial('Idle', 'no job is running'),
      Degraded: initial('NoFailures', 'no job has failed'),
      Drifted: initial('NotChecked', 'the machine has not been checked yet'),
    };
  }

  /** Sets a condition; returns true when anything changed (so PropertiesChanged is due). */
  set(type: ConditionType, status: boolean, reason: string, message: string): boolean {
    const current = this.conditions[type];
    const word = status ? 'True' : 'False';
    if (current?.status === word && current.reason === reason && current.message === message)
      return false;
    const lastTransitionTime =
      current?.status === word ? current.lastTransitionTime : new Date().toISOString();
    this.conditions[type] = { status: word, reason, message, lastTransitionTime };
    return true;
  }

  get(type: Exclude<ConditionType, 'FleetConnected'>): Condition;
  get(type: ConditionType): Condition | undefined;
  get(type: ConditionType): Condition | undefined {
    return this.conditions[type];
  }

  toJSON(): Partial<Record<ConditionType, Condition>> {
    return { ...this.conditions };
  }
}
