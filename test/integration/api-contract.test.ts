import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { callMethod } from '../../src/dbus/bus.js';
import {
  parseChildNodes,
  parseInterfaces,
  type InterfaceSpec,
} from '../../src/dbus/interface-xml.js';
import {
  BUS_NAME,
  CHECKPOINT_INTERFACE,
  JOB_INTERFACE,
  MANAGER_INTERFACE,
  OBJECT_PATH,
} from '../../src/dbus/api.js';
import { ErrorName } from '../../src/errors.js';
import { PLUGINS } from '../../src/plugins/registry.js';
import { startStack, type Stack } from '../harness/stack.js';
import { errorOf, rawCall, SignalRecorder, jobIdOf } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';

const XML_FILE = new URL('../../dbus-interfaces/org.opdbus.StateManager.xml', import.meta.url);

function comparable(spec: InterfaceSpec | undefined): unknown {
  assert.ok(spec);
  return {
    methods: [...spec.methods.values()],
    signals: [...spec.signals.values()],
    properties: [...spec.properties.values()],
  };
}

async function introspect(stack: Stack, path: string): Promise<string> {
  const [xml] = await callMethod(stack.clientBus, {
    destination: BUS_NAME,
    path,
    interface: 'org.freedesktop.DBus.Introspectable',
    member: 'Introspect',
  });
  return String(xml);
}

describe('D-Bus API contract (real bus, real packagekitd, real daemon)', () => {
  let stack: Stack;
  let fileInterfaces: Map<string, InterfaceSpec>;

  before(async () => {
    stack = await startStack();
    fileInterfaces = parseInterfaces(await readFile(XML_FILE, 'utf8'));
  });
  after(async () => stack?.stop());

  it('exports exactly the manager interface of dbus-interfaces/ at the manager path', async () => {
    const live = parseInterfaces(await introspect(stack, OBJECT_PATH));
    assert.deepEqual(
      comparable(live.get(MANAGER_INTERFACE)),
      comparable(fileInterfaces.get(MANAGER_INTERFACE)),
    );
    assert.ok(!live.has(JOB_INTERFACE), 'the job interface belongs on job objects only');
  });

  it('exports the job interface of the XML on each job object, listed as a child node', async () => {
    const path = await stack.client.apply(packagesDocument({ glib2: 'installed' }));
    assert.match(path, /^\/org\/opdbus\/StateManager\/job\/\d+$/);
    const live = parseInterfaces(await introspect(stack, path));
    assert.deepEqual(
      comparable(live.get(JOB_INTERFACE)),
      comparable(fileInterfaces.get(JOB_INTERFACE)),
    );
    assert.ok(parseChildNodes(await introspect(stack, OBJECT_PATH)).includes('job'));
    assert.ok(parseChildNodes(await introspect(stack, '/')).includes('org'));
  });

  it('exports the checkpoint interface of the XML on each checkpoint object', async () => {
    const recorder = await SignalRecorder.start(stack.clientBus);
    const [, path] = await stack.client.applyConfirmed('{"version":1,"plugins":{}}', 60);
    assert.match(path, /^\/org\/opdbus\/StateManager\/checkpoint\/\d+$/);
    const live = parseInterfaces(await introspect(stack, path));
    assert.deepEqual(
      comparable(live.get(CHECKPOINT_INTERFACE)),
      comparable(fileInterfaces.get(CHECKPOINT_INTERFACE)),
    );
    assert.equal(await stack.client.managerProperty('PendingCheckpoint'), path);
    await stack.client.checkpointCall(path, 'Rollback');
    const id = Number(path.split('/').pop());
    await recorder.waitFor(
      'the rollback',
      (s) => s.member === 'CheckpointRemoved' && s.body[0] === id,
    );
    assert.equal(await stack.client.managerProperty('PendingCheckpoint'), '/');
    recorder.stop();
  });

  it('serves the documented properties with their types', async () => {
    assert.equal(await stack.client.managerProperty('Version'), '0.1.0');
    assert.deepEqual(
      await stack.client.managerProperty('Plugins'),
      PLUGINS.map((plugin) => plugin.name),
    );
    assert.equal(typeof (await stack.client.managerProperty('DesiredGeneration')), 'bigint');
    assert.ok(['idle', 'applying'].includes(String(await stack.client.managerProperty('Status'))));
  });

  it('refuses to set a property', async () => {
    const { Variant } = await import('../../src/dbus/bus.js');
    const error = await errorOf(
      callMethod(stack.clientBus, {
        destination: BUS_NAME,
        path: OBJECT_PATH,
        interface: 'org.freedesktop.DBus.Properties',
        member: 'Set',
        signature: 'ssv',
        body: [MANAGER_INTERFACE, 'Status', new Variant('s', 'idle')],
      }),
    );
    assert.equal(error.type, ErrorName.PropertyReadOnly);
  });

  it('answers a wrong signature with InvalidArgs naming the expected one, and keeps serving', async () => {
    const wrongType = await errorOf(rawCall(stack.clientBus, 'Apply', 'u', [7]));
    assert.equal(wrongType.type, ErrorName.InvalidArgs);
    assert.match(wrongType.text, /Apply takes arguments of signature 's', got 'u'/);
    const missing = await errorOf(rawCall(stack.clientBus, 'Plan', '', []));
    assert.equal(missing.type, ErrorName.InvalidArgs);
    const extra = await errorOf(rawCall(stack.clientBus, 'Query', 'ass', [[], 'x']));
    assert.equal(extra.type, ErrorName.InvalidArgs);
    assert.equal((JSON.parse(await stack.client.desiredState()) as { version: number }).version, 1);
  });

  it('answers an unknown method with UnknownMethod', async () => {
    const error = await errorOf(rawCall(stack.clientBus, 'Explode', '', []));
    assert.equal(error.type, ErrorName.UnknownMethod);
  });

  it('rejects invalid documents with every problem and changes nothing', async () => {
    const generation = await stack.client.managerProperty('DesiredGeneration');
    const desired = await stack.client.desiredState();
    const recorder = await SignalRecorder.start(stack.clientBus);
    const invalid = [
      'not json',
      '{"version":1,"plugins":{"nosuchplugin":{}}}',
      packagesDocument({ 'hello; reboot': 'installed' }),
      `{"version":1,"plugins":{},"pad":"${'x'.repeat(5 * 1024 * 1024)}"}`,
    ];
    for (const document of invalid) {
      for (const method of ['Apply', 'Plan'] as const) {
        const error = await errorOf(
          method === 'Apply' ? stack.client.apply(document) : stack.client.plan(document),
        );
        assert.equal(
          error.type,
          ErrorName.InvalidDocument,
          `${method} of ${document.slice(0, 40)}`,
        );
        assert.match(error.text, /invalid document \(\d+ problems?\):\n {2}\//);
      }
    }
    assert.equal(await stack.client.managerProperty('DesiredGeneration'), generation);
    assert.equal(await stack.client.desiredState(), desired);
    assert.equal(recorder.named('JobNew').length, 0, 'no job was queued');
    recorder.stop();
  });

  it('Query of an unknown plugin is an UnknownPlugin error', async () => {
    const error = await errorOf(stack.client.query(['nosuchplugin']));
    assert.equal(error.type, ErrorName.UnknownPlugin);
    assert.match(error.text, /'nosuchplugin'.*known: packagekit/);
  });

  it('GetDesiredState returns the last accepted document and DesiredGeneration counts it', async () => {
    const before = Number(await stack.client.managerProperty('DesiredGeneration'));
    const document = packagesDocument({ powertop: 'installed' });
    const path = await stack.client.apply(document);
    assert.deepEqual(JSON.parse(await stack.client.desiredState()), JSON.parse(document));
    assert.equal(Number(await stack.client.managerProperty('DesiredGeneration')), before + 1);
    assert.ok(jobIdOf(path) > 0);
  });
});
