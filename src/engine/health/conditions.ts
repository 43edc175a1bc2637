/**
 * Kubernetes-style conditions for the Conditions property: each says True or False
 * with a machine-readable reason, a human message, and when it last flipped.
 */
export type ConditionType = 'Ready' | 'Progressing' | 'Degraded' | 'Drifted';

export interface Condition {
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export class Conditions {
  private readonly conditions: Record<ConditionType, Condition>;

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
    if (current.status === word && current.reason === reason && current.message === message)
      return false;
    const lastTransitionTime =
      current.status === word ? current.lastTransitionTime : new Date().toISOString();
    this.conditions[type] = { status: word, reason, message, lastTransitionTime };
    return true;
  }

  get(type: ConditionType): Condition {
    return this.conditions[type];
  }

  toJSON(): Record<ConditionType, Condition> {
    return { ...this.conditions };
  }
}
