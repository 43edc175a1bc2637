// `npx tsx bench/fleet.ts [NODES] [DATA_FOLDER]`: a three-member etcd cluster on loopback and the
// 1,000-node simulation (bench/lib/fleet.ts); prints the figures as JSON.
import { startEtcdCluster } from '../test/harness/etcd.js';
import { fleetSimulation } from './lib/fleet.js';

const nodes = Number(process.argv[2] ?? 1000);
const dataIn = process.argv[3];
const cluster = await startEtcdCluster(dataIn === undefined ? {} : { dataIn });
try {
  console.log(JSON.stringify(await fleetSimulation({ endpoints: cluster.endpoints, nodes })));
} finally {
  await cluster.stop();
}
