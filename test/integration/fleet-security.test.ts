import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3, EtcdPermissionDeniedError } from 'etcd3';
import { FleetKeys } from '../../src/fleet/keys.js';
import { publishLayer } from '../../src/fleet/publish.js';
import { nodeGrants, publisherGrants } from '../../src/fleet/roles.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd.js';
import { waitFor } from '../harness/processes.js';
import { motd, validateDocument } from '../helpers/fake-fleet-layers.js';
import { rootClient, settingsFor, startAgent, waitForReport } from '../helpers/fleet.js';

const PREFIX = '/opdbus';
const keys = new FleetKeys(PREFIX);

/** The documented roles: a publisher, and one role per node (groups: web). */
async function makeRoles(cluster: EtcdCluster, nodes: string[]): Promise<void> {
  await cluster.addRole('publisher', publisherGrants(keys, nodes));
  for (const node of nodes) await cluster.addRole(`node-${node}`, nodeGrants(keys, node, ['web']));
}

const denied = (err: unknown): boolean => err instanceof EtcdPermissionDeniedError;

describe('fleet with etcd auth (users and roles, passwords)', () => {
  let cluster: EtcdCluster;
  let admin: Etcd3;
  before(async () => {
    cluster = await startEtcdCluster({ auth: true });
    admin = rootClient(cluster);
    await makeRoles(cluster, ['n1', 'n2']);
    await cluster.addUser('publisher', 'pub-secret', ['publisher']);
    for (const node of ['n1', 'n2'])
      await cluster.addUser(node, `${node}-secret`, [`node-${node}`]);
  });
  after(async () => {
    admin?.close();
    await cluster?.stop();
  });

  const as = (username: string, password: string): Etcd3 =>
    new Etcd3({ hosts: [...cluster.endpoints], auth: { username, password } });

  it("a node's credentials apply and report its own keys and cannot write another node's report", async () => {
    const passwordFile = join(cluster.dir, 'n1.password');
    await writeFile(passwordFile, 'n1-secret\n', { mode: 0o600 });
    const publisher = as('publisher', 'pub-secret');
    const n1Client = as('n1', 'n1-secret');
    const n1 = await startAgent(
      settingsFor(cluster, PREFIX, 'n1', ['web'], { auth: { username: 'n1', passwordFile } }),
    );
    try {
      const { revision } = await publishLayer({
        client: publisher,
        keys,
        target: { group: 'web' },
        text: motd('with auth'),
        validate: validateDocument,
      });
      await waitForReport(
        admin,
        keys,
        'n1',
        'applied',
        (r) =>
          r.layers['group:web']?.revision === revision && r.layers['group:web']?.outcome === 'done',
      );
      await waitFor(
        'alive key',
        async () => (await admin.get(keys.nodeAlive('n1')).string()) !== null,
      );
      await assert.rejects(
        n1Client.put(keys.nodeReport('n2')).value('{"forged":true}').exec(),
        denied,
      );
      await assert.rejects(n1Client.put(keys.nodeAlive('n2')).value('x').exec(), denied);
      await assert.rejects(
        n1Client.put(keys.groupDesired('web')).value(motd('evil')).exec(),
        denied,
      );
      await assert.rejects(n1Client.get(keys.nodeDesired('n2')).string(), denied);
      await assert.rejects(publisher.put(keys.nodeReport('n1')).value('{}').exec(), denied);
      assert.equal(await admin.get(keys.nodeReport('n2')).string(), null);
    } finally {
      await n1.agent.stop();
      publisher.close();
      n1Client.close();
    }
  });
});

describe('fleet over TLS with client certificates (the certificate names the etcd user)', () => {
  let cluster: EtcdCluster;
  let admin: Etcd3;
  before(async () => {
    cluster = await startEtcdCluster({ tls: true, auth: true });
    admin = rootClient(cluster);
    await makeRoles(cluster, ['n1', 'n2']);
    await cluster.addUser('publisher', 'unused', ['publisher']);
    for (const node of ['n1', 'n2']) await cluster.addUser(node, 'unused', [`node-${node}`]);
  });
  after(async () => {
    admin?.close();
    await cluster?.stop();
  });

  it('an agent with its certificate applies and reports; that certificate cannot write n2', async () => {
    const pki = cluster.pki;
    assert.ok(pki);
    const n1Cert = await pki.client('n1');
    const publisherCert = await pki.client('publisher');
    const publisher = new Etcd3({
      hosts: [...cluster.endpoints],
      credentials: {
        rootCertificate: pki.ca,
        certChain: publisherCert.cert,
        privateKey: publisherCert.key,
      },
    });
    const n1Client = new Etcd3({
      hosts: [...cluster.endpoints],
      credentials: { rootCertificate: pki.ca, certChain: n1Cert.cert, privateKey: n1Cert.key },
    });
    const n1 = await startAgent(
      settingsFor(cluster, PREFIX, 'n1', ['web'], {
        tls: { ca: pki.caFile, cert: n1Cert.certFile, key: n1Cert.keyFile },
      }),
    );
    try {
      assert.ok(cluster.endpoints.every((url) => url.startsWith('https://127.0.0.1:')));
      const { revision } = await publishLayer({
        client: publisher,
        keys,
        target: { group: 'web' },
        text: motd('over TLS'),
        validate: validateDocument,
      });
      await waitForReport(
        admin,
        keys,
        'n1',
        'applied',
        (r) =>
          r.layers['group:web']?.revision === revision && r.layers['group:web']?.outcome === 'done',
      );
      await assert.rejects(n1Client.put(keys.nodeReport('n2')).value('{}').exec(), denied);
      // Without a client certificate the TLS handshake itself is refused.
      const anonymous = new Etcd3({
        hosts: [...cluster.endpoints],
        credentials: { rootCertificate: pki.ca },
        defaultCallOptions: () => ({ deadline: Date.now() + 3_000 }),
      });
      await assert.rejects(anonymous.get(keys.groupDesired('web')).string());
      anonymous.close();
    } finally {
      await n1.agent.stop();
      publisher.close();
      n1Client.close();
    }
  });
});
