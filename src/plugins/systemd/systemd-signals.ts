import type { Message } from '../../dbus/bus.js';
import type { ServicePeer } from '../../dbus/service-peer.js';
import { ChangeFeed } from '../shared/change-feed.js';
import type { JobWaiter } from './job-waiter.js';
import { MANAGER_INTERFACE, MANAGER_PATH } from './systemd-client.js';
import { unitNameFromPath } from './unit-path.js';

const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';

/**
 * The one place that reads systemd's signals, each with one meaning:
 *
 * | Signal                                  | Means                     |
 * |-----------------------------------------|---------------------------|
 * | JobRemoved(id, job, unit, result)       | that unit; a job ended    |
 * | UnitNew / UnitRemoved(unit, path)       | that unit                 |
 * | PropertiesChanged on a unit's object    | that unit                 |
 * | UnitFilesChanged, Reloading(true/false) | every unit                |
 * | systemd's owner changed (restart)       | every unit                |
 *
 * The meanings go to the plugin's change feed (its cache and the drift monitor
 * both listen), JobRemoved also to the job waiter. Only signals from the
 * connection that owns org.freedesktop.systemd1 get here (ServicePeer).
 */
export function listenToSystemd(
  peer: ServicePeer,
  changes: ChangeFeed,
  jobs: JobWaiter,
): () => void {
  const manager = { path: MANAGER_PATH, interface: MANAGER_INTERFACE };
  const unitOf = (message: Message, index: number): string[] => {
    const value = (message.body as unknown[])[index];
    return typeof value === 'string' ? [value] : [];
  };
  const offs = [
    peer.subscribe({ ...manager, member: 'JobRemoved' }, (message) => {
      jobs.onJobRemoved(message);
      changes.publish(unitOf(message, 2));
    }),
    peer.subscribe({ ...manager, member: 'UnitNew' }, (m) => changes.publish(unitOf(m, 0))),
    peer.subscribe({ ...manager, member: 'UnitRemoved' }, (m) => changes.publish(unitOf(m, 0))),
    peer.subscribe({ ...manager, member: 'UnitFilesChanged' }, () => changes.publish('all')),
    peer.subscribe({ ...manager, member: 'Reloading' }, () => changes.publish('all')),
    peer.subscribe({ interface: PROPERTIES_INTERFACE, member: 'PropertiesChanged' }, (message) => {
      const name = unitNameFromPath(message.path);
      if (name !== undefined) changes.publish([name]);
    }),
    peer.onOwnerChanged(() => changes.publish('all')),
  ];
  return () => {
    for (const off of offs) off();
  };
}
