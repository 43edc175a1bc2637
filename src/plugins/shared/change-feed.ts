import type { ChangeScope, ChangeSource } from '../../engine/plugin.js';

/**
 * A plugin's one feed of "look again" notices. The plugin's signal handling
 * interprets its service's announcements once and publishes them here; its
 * observation cache and the engine's drift monitor both subscribe, so the two
 * can never disagree about what a signal means.
 */
export class ChangeFeed implements ChangeSource {
  private readonly listeners = new Set<(scope: ChangeScope) => void>();

  /** These resources (or all) may have changed. */
  publish(scope: ChangeScope): void {
    if (scope !== 'all' && scope.length === 0) return;
    for (const listener of [...this.listeners]) listener(scope);
  }

  subscribe(listener: (scope: ChangeScope) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  clear(): void {
    this.listeners.clear();
  }
}
