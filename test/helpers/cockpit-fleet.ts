import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { deepStrictEqual } from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { CLI } from '../harness/daemon.js';
import { tableRows } from './cockpit-page.js';

/** One node of `op-dbus fleet status --json`, the fields the Fleet tab shows. */
export interface CliNode {
  node: string;
  alive: boolean;
  report?: {
    generation: number;
    lastResult: {
      job: number;
      kind: string;
      state: string;
      summary: { changed: number; unchanged: number; failed: number };
    } | null;
  };
  layers: { layer: string; applied: number | null; published: number | null; outcome?: string }[];
  problems: string[];
}

/**
 * An `op-dbus` in `dir` for cockpit-ws's PATH: the built CLI, as install.sh's
 * /usr/bin/op-dbus runs it, reading `config` (the installed one reads the daemon's
 * /etc/op-dbus/op-dbus.json).
 */
export async function writeCliWrapper(dir: string, config: string): Promise<void> {
  const wrapper = join(dir, 'op-dbus');
  await writeFile(wrapper, `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@" --config ${config}\n`);
  await chmod(wrapper, 0o755);
}

/** What the CLI itself prints for `fleet status --json` (exit 1 when a node has problems). */
export async function cliFleetStatus(config: string): Promise<CliNode[]> {
  const args = [CLI, 'fleet', 'status', '--json', '--config', config];
  const { stdout } = await promisify(execFile)(process.execPath, args).catch(
    (err: { code?: number; stdout?: string }) => {
      if (err.code !== 1 || !err.stdout) throw err;
      return { stdout: err.stdout };
    },
  );
  return (JSON.parse(stdout) as { nodes: CliNode[] }).nodes;
}

/** The fleet-wide table without its Lag column (the report's age moves each second). */
export async function shownNodes(page: Page): Promise<string[][]> {
  const rows = await tableRows(page, '#fleet-wide-nodes');
  return rows.map((row) => [...row.slice(0, 5), row[6] ?? '']);
}

/** The rows shownNodes should see for what the CLI printed, written out independently of the page. */
export function expectedNodes(nodes: CliNode[]): string[][] {
  return nodes.map((n) => {
    const result = n.report?.lastResult;
    return [
      n.node,
      n.alive ? 'alive' : 'DEAD',
      n.layers.length === 0
        ? 'none reported'
        : n.layers
            .map((l) => `${l.layer} ${l.applied ?? '-'}/${l.published ?? '-'} ${l.outcome ?? '-'}`)
            .join('\n'),
      n.report ? String(n.report.generation) : '—',
      result
        ? `job ${result.job} (${result.kind}) ${result.state}: ${result.summary.changed} changed, ` +
          `${result.summary.unchanged} unchanged, ${result.summary.failed} failed`
        : '—',
      n.problems.length === 0 ? '—' : n.problems.join('\n'),
    ];
  });
}

/**
 * Waits until read() gives `expected` (the page renders after D-Bus signals and CLI
 * runs, so one read can come a moment early), then returns; after `timeoutMs`
 * fails with the last value and the page's state (which tab, whether the Fleet
 * panel is shown), so a wrong page is told from a slow one.
 */
export async function eventually<T>(
  page: Page,
  read: () => Promise<T>,
  expected: T,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const actual = await read();
    try {
      deepStrictEqual(actual, expected);
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        const state = await page.evaluate(() => {
          const g = globalThis as unknown as {
            document: {
              body: { dataset: Record<string, string> };
              querySelector(s: string): { hidden: boolean } | null;
            };
          };
          const fleet = g.document.querySelector('#fleet');
          return { body: { ...g.document.body.dataset }, fleetHidden: fleet?.hidden };
        });
        throw new Error(`page state ${JSON.stringify(state)}`, { cause: err });
      }
    }
    await sleep(200);
  }
}
