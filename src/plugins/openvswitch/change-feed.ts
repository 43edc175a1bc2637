import type { ChangeScope } from '../../engine/plugin.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import type { OvsdbClient, ReplicaEvent } from './ovsdb/client.js';
import { bridgeIndex, bridgesTouched } from './state.js';

/**
 * The one place that turns the client's one monitor into "look again" notices
 * on the plugin's change feed: an update names the bridges whose Bridge, Port
 * or Interface rows it touched (before or after the change, so a port deleted
 * from a bridge names that bridge); a (re)connect says 'all', since anything may
 * have changed while the connection was down. Level-based: nothing of the
 * update's content is passed on. Returns the function that stops listening.
 */
export function listenToOvsdb(client: OvsdbClient, changes: ChangeFeed): () => void {
  let index = bridgeIndex(client.replica);
  return client.subscribe((event: ReplicaEvent) => {
    // A lost connection says nothing to look at: observe fails until it is back.
    if (event.kind === 'lost') return;
    const after = bridgeIndex(client.replica);
    const scope: ChangeScope =
      event.kind === 'reset' ? 'all' : bridgesTouched(event.touched, index, after);
    index = after;
    changes.publish(scope);
  });
}
