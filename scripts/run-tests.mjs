#!/usr/bin/env node
// Runs every test file with node's test runner (Node 20's --test does not expand
// globs). Files run one at a time: each integration file starts its own private
// bus and services, and the apt-backend tests share dpkg's global lock.
// Usage: node scripts/run-tests.mjs [unit|integration|FILE...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir)
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return testFiles(path);
      return entry.endsWith('.test.ts') ? [path] : [];
    })
    .sort();
}

const args = process.argv.slice(2);
const groups = args.length === 0 ? ['unit', 'integration'] : args;
const files = groups.flatMap((group) =>
  group.endsWith('.ts') ? [group] : testFiles(join('test', group)),
);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
