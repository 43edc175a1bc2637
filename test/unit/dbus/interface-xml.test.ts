import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import {
  parseChildNodes,
  parseInterfaces,
  renderIntrospection,
} from '../../../src/dbus/interface-xml.js';

const XML_FILE = new URL('../../../dbus-interfaces/org.opdbus.StateManager.xml', import.meta.url);

describe('interface XML', () => {
  it('reads the contract the issue names: methods, signals and properties with signatures', async () => {
    const interfaces = parseInterfaces(await readFile(XML_FILE, 'utf8'));
    const manager = interfaces.get('org.opdbus.StateManager');
    assert.ok(manager);
    const methods = Object.fromEntries(
      [...manager.methods.values()].map((m) => [m.name, `${m.inSignature}->${m.outSignature}`]),
    );
    assert.deepEqual(methods, {
      Apply: 's->o',
      ApplyConfirmed: 'su->oo',
      Plan: 's->s',
      Query: 'as->s',
      GetDesiredState: '->s',
      GetDesiredLayers: '->s',
      Verify: '->s',
      Reconcile: '->o',
      GetHistory: 'u->s',
      VerifyHistory: '->s',
    });
    const signals = Object.fromEntries(
      [...manager.signals.values()].map((s) => [s.name, s.signature]),
    );
    assert.deepEqual(signals, {
      JobNew: 'uos',
      JobRemoved: 'uos',
      Progress: 'usssus',
      DriftDetected: 'ssss',
      CheckpointRemoved: 'uos',
    });
    const properties = Object.fromEntries(
      [...manager.properties.values()].map((p) => [p.name, p.type]),
    );
    assert.deepEqual(properties, {
      Version: 's',
      Status: 's',
      Plugins: 'as',
      DesiredGeneration: 't',
      AppliedGeneration: 't',
      LastReconcile: 't',
      DriftCount: 'u',
      Conditions: 's',
      PendingCheckpoint: 'o',
    });
    const job = interfaces.get('org.opdbus.StateManager.Job');
    assert.ok(job);
    assert.deepEqual([...job.methods.keys()], ['Cancel']);
    assert.deepEqual(
      Object.fromEntries([...job.properties.values()].map((p) => [p.name, p.type])),
      { Id: 'u', Kind: 's', State: 's', Percentage: 'u', Result: 's' },
    );
    const checkpoint = interfaces.get('org.opdbus.StateManager.Checkpoint');
    assert.ok(checkpoint);
    assert.deepEqual(
      Object.fromEntries(
        [...checkpoint.methods.values()].map((m) => [
          m.name,
          `${m.inSignature}->${m.outSignature}`,
        ]),
      ),
      { Confirm: '->', Rollback: '->', Extend: 'u->' },
    );
    assert.deepEqual(
      Object.fromEntries([...checkpoint.properties.values()].map((p) => [p.name, p.type])),
      {
        Id: 'u',
        State: 's',
        Deadline: 't',
        Job: 'o',
        RollbackJob: 'o',
        Snapshot: 's',
        Failed: 's',
      },
    );
  });

  it('renders introspection that parses back to the same interfaces and children', async () => {
    const interfaces = parseInterfaces(await readFile(XML_FILE, 'utf8'));
    const xml = renderIntrospection([...interfaces.values()], ['job']);
    assert.deepEqual(parseInterfaces(xml), interfaces);
    assert.deepEqual(parseChildNodes(xml), ['job']);
    assert.match(xml, /^<!DOCTYPE node PUBLIC/);
  });

  it('rejects a property without a valid access', () => {
    assert.throws(
      () =>
        parseInterfaces(
          '<node><interface name="a.b"><property name="X" type="s" access="sometimes"/></interface></node>',
        ),
      /access/,
    );
  });
});
