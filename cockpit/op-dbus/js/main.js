// Entry point: one D-Bus client, one job store, then the views. Optional features
// are mounted only when the daemon's introspection lists their members; a new one
// is one entry in FEATURES and one module.
import { connect, reloadWhenDaemonAppears } from './client.js';
import { byId } from './dom.js';
import { checkpointAvailable, mountCheckpoint } from './checkpoint-view.js';
import { mountDrift } from './drift-view.js';
import { mountEditor, plainApply } from './editor-view.js';
import { fleetAvailable, mountFleet } from './fleet-view.js';
import { mountHistory } from './history-view.js';
import { JobStore } from './jobs.js';
import { mountJobs } from './jobs-view.js';
import { describeError } from './model.js';
import { mountStatus } from './status-view.js';

const FEATURES = [
  { name: 'checkpoint', available: checkpointAvailable, mount: mountCheckpoint },
  { name: 'fleet', available: fleetAvailable, mount: mountFleet },
];

function showPageAlert(error) {
  const alert = byId('page-alert');
  const described = describeError(error);
  alert.textContent = `${described.title}: ${described.message}`;
  alert.hidden = false;
}

async function main() {
  const api = connect();
  const jobs = new JobStore(api);
  const ctx = { api, jobs, apply: plainApply(api) };
  mountStatus(ctx);
  mountJobs(ctx);
  mountDrift(ctx);
  mountHistory(ctx);
  try {
    await api.manager.wait();
  } catch (error) {
    showPageAlert(error);
  }
  if (!api.manager.valid) reloadWhenDaemonAppears();
  const features = FEATURES.filter((feature) => feature.available(api.capabilities));
  for (const feature of features) feature.mount(ctx);
  mountEditor(ctx);
  document.body.dataset.features = features.map((feature) => feature.name).join(' ');
  // For tests and for people: the page is wired and the daemon's state is shown.
  document.body.dataset.ready = api.manager.valid ? 'yes' : 'no-daemon';
}

main().catch(showPageAlert);
