// `node scripts/cpu-profile-summary.mjs PROFILE.cpuprofile [phases.json] [TOP]`:
// where a V8 CPU profile's time went (self time), by package or folder and by
// function, for the whole profile or per phase (phases.json from bench/profile.ts:
// [{name, startUs, endUs}] on CLOCK_MONOTONIC, the clock V8 stamps samples with).
import { readFileSync } from 'node:fs';

const [file, phasesFile, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpu-profile-summary.mjs PROFILE [phases.json] [TOP]');
  process.exit(2);
}
const top = Number(topArg ?? 20);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));

/** Sample node ids with their time stamps (µs) and durations. */
const samples = [];
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i += 1) {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  samples.push({ id: profile.samples[i], at, us: profile.timeDeltas[i + 1] ?? 0 });
}

function where(frame) {
  const url = frame.url;
  if (!url) return `(${frame.functionName || 'native'})`;
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node: (Node itself)';
  const own = /\/(dist|src)\/(.*)/.exec(url);
  return own ? `${own[1]}/${own[2].split('/').slice(0, -1).join('/') || own[2]}` : url;
}

function fn(frame) {
  const url = frame.url.replace(/.*node_modules\//, '').replace(/.*\/(dist|src)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`;
}

function summarize(title, chosen) {
  const byWhere = new Map();
  const byFn = new Map();
  let total = 0;
  for (const sample of chosen) {
    const frame = nodes.get(sample.id).callFrame;
    if (frame.functionName === '(idle)') continue;
    total += sample.us;
    byWhere.set(where(frame), (byWhere.get(where(frame)) ?? 0) + sample.us);
    byFn.set(fn(frame), (byFn.get(fn(frame)) ?? 0) + sample.us);
  }
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          `  ${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`,
      )
      .join('\n');
  console.log(`\n== ${title}: ${(total / 1000).toFixed(1)} ms on CPU (idle excluded)`);
  console.log(`-- by package or folder\n${rows(byWhere)}`);
  console.log(`-- by function\n${rows(byFn)}`);
}

if (phasesFile) {
  for (const phase of JSON.parse(readFileSync(phasesFile, 'utf8'))) {
    summarize(
      phase.name,
      samples.filter((s) => s.at >= phase.startUs && s.at < phase.endUs),
    );
  }
} else summarize('whole profile', samples);
