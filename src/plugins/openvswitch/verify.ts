import { boundedText, type FailureKind } from '../../errors.js';
import type { ResourceOutcome } from '../../engine/plugin.js';
import { documentType, type OvsChange } from './plan.js';
import type { ObservedInterface, OvsState } from './state.js';

/**
 * Verification after apply, once ovs-vswitchd has applied the configuration
 * (cur_cfg caught up): OVSDB accepting a row is not success. An interface
 * ovs-vswitchd could not add has ofport -1 or none, and usually an `error`; a
 * bridge whose datapath cannot be opened (type "system" without the kernel
 * module) gets no ofport and NO error: ovs-vswitchd says why only in its log.
 */

/** Why an interface is not working, or undefined when it is. */
export function interfaceProblem(iface: ObservedInterface | undefined): string | undefined {
  if (iface === undefined) return 'its interface is not in OVSDB';
  if (iface.error !== null) return iface.error;
  if (iface.ofport === null || iface.ofport === -1) {
    return `ovs-vswitchd gave it no OpenFlow port (ofport ${iface.ofport ?? 'empty'})`;
  }
  return undefined;
}

function failed(change: OvsChange, error: string, failure: FailureKind): ResourceOutcome {
  return {
    resource: change.resource,
    outcome: 'failed',
    action: change.action,
    error: boundedText(error),
    failure,
  };
}

function changed(change: OvsChange): ResourceOutcome {
  return { resource: change.resource, outcome: 'changed', action: change.action };
}

/** The bridge's own (local) interface: the interface of the port named like the bridge. */
function localInterface(state: OvsState, bridge: string): ObservedInterface | undefined {
  return state.ports.get(bridge)?.interfaces.find((iface) => iface.name === bridge);
}

/** Why a bridge is not set up in ovs-vswitchd, with how sure retrying is to help. */
function bridgeProblem(
  state: OvsState,
  name: string,
): { error: string; failure: FailureKind } | undefined {
  const bridge = state.bridges.get(name);
  if (bridge === undefined) {
    return { error: `bridge ${name} is not in OVSDB after the transaction`, failure: 'retryable' };
  }
  const local = localInterface(state, name);
  const problem = interfaceProblem(local);
  if (problem === undefined) return undefined;
  const datapath = documentType(bridge.datapathType);
  if (datapath === 'system' && local?.error === null) {
    return {
      error:
        `ovs-vswitchd did not create bridge ${name}: ${problem}. Its datapath_type is "system", ` +
        "which needs the openvswitch kernel module (ovs-vswitchd's log says " +
        `"failed to open datapath"); use datapath_type "netdev" for the userspace datapath`,
      failure: 'terminal',
    };
  }
  return {
    error: `ovs-vswitchd did not set up bridge ${name} (datapath_type ${datapath}): ${problem}`,
    failure: 'retryable',
  };
}

/**
 * One outcome per change, read from the replica after ovs-vswitchd applied the
 * transaction. Changes that were not in it ('none', 'unresolvable') are
 * reported as unchanged or as failed with their reason.
 */
export function verifyChange(change: OvsChange, state: OvsState): ResourceOutcome {
  if (change.action === 'none') {
    return { resource: change.resource, outcome: 'unchanged', action: 'none' };
  }
  if (change.action === 'unresolvable') {
    return failed(change, change.reason ?? 'cannot be made as the machine stands', 'terminal');
  }
  if (change.kind === 'bridge') {
    if (change.action === 'remove') {
      return state.bridges.has(change.bridge)
        ? failed(change, `bridge ${change.bridge} is still in OVSDB`, 'retryable')
        : changed(change);
    }
    const problem = bridgeProblem(state, change.bridge);
    return problem === undefined ? changed(change) : failed(change, problem.error, problem.failure);
  }
  const port = state.ports.get(change.port);
  if (change.action === 'remove') {
    return port?.bridge === change.bridge
      ? failed(change, `port ${change.port} is still on bridge ${change.bridge}`, 'retryable')
      : changed(change);
  }
  if (port?.bridge !== change.bridge) {
    return failed(change, `port ${change.port} is not on bridge ${change.bridge}`, 'retryable');
  }
  const problem = interfaceProblem(port.interfaces[0]);
  if (problem === undefined) return changed(change);
  const bridge = bridgeProblem(state, change.bridge);
  if (bridge !== undefined && change.port !== change.bridge) {
    return failed(change, `port ${change.port}: ${problem}; ${bridge.error}`, bridge.failure);
  }
  return failed(change, `port ${change.port}: ${problem}`, 'retryable');
}
