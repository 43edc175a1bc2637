#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { connectBus, dbusErrorText, onBusClosed } from '../dbus/bus.js';
import { applyOnProbation, onPendingCheckpoint } from './checkpoint-commands.js';
import { applyAndWait, runJobAndWait, StateManagerClient } from './client.js';
import {
  formatPlan,
  formatProgress,
  formatResult,
  formatSignal,
  formatStatus,
  formatVerify,
  formatHistory,
  formatLedgerReport,
} from './format.js';

const USAGE = `Usage: op-dbus COMMAND [OPTIONS]

Commands:
  apply [FILE|-]            make FILE (stdin when absent or -) the desired state; wait and show progress
  apply --confirm-timeout SECONDS [FILE|-]
                            apply on probation: unless confirmed within SECONDS, it is rolled back
  confirm                   make the change applied on probation final
  rollback                  roll the change applied on probation back now
  extend SECONDS            push the pending checkpoint's deadline to SECONDS from now
  plan FILE | diff FILE     show what apply would change, changing nothing
  query [-p PLUGIN]...      print the current state as a document (all plugins by default);
                            exit 1 when a plugin could not be read (named on stderr and in "unreadable")
  init --introspect [--output FILE]
                            capture the machine's current state as a document; plugins that could
                            not be read are named on stderr and the exit status is 1
  status                    conditions, generations, last reconcile
  verify                    what has drifted from the desired state now (changes nothing; exit 1 if drifted)
  reconcile                 queue a full reconcile of the desired state and wait for it
  watch                     follow jobs, Progress and DriftDetected live (Ctrl-C to stop)
  history [--limit N]       the audit ledger's newest records (default 20)
  history --verify          check the ledger's hash chain (exit 1 if it was changed)
  fleet publish|status|watch
                            one desired state for many machines through etcd (op-dbus fleet --help)
  daemon [OPTIONS]          run the daemon (see op-dbus daemon --help)

Options:
  --json                    machine-readable output
  -h, --help                this help

The daemon is reached on the system bus (DBUS_SYSTEM_BUS_ADDRESS, like every D-Bus tool).
Exit status: 0 success, 1 a resource failed or the job was cancelled, 2 bad usage or an error.`;

class UsageError extends Error {}

async function readDocument(file: string | undefined): Promise<string> {
  if (file === undefined || file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(file, 'utf8');
}

async function withClient<T>(run: (client: StateManagerClient) => Promise<T>): Promise<T> {
  const bus = await connectBus('system');
  try {
    return await run(new StateManagerClient(bus));
  } finally {
    bus.disconnect();
  }
}

async function apply(
  file: string | undefined,
  json: boolean,
  confirmTimeout: string | undefined,
): Promise<number> {
  const document = await readDocument(file);
  if (confirmTimeout !== undefined) {
    const seconds = Number(confirmTimeout);
    if (!Number.isInteger(seconds) || seconds < 1)
      throw new UsageError('--confirm-timeout needs a whole number of seconds (at least 1)');
    return withClient((client) => applyOnProbation(client, document, seconds, json));
  }
  const outcome = await withClient((client) =>
    applyAndWait(client, document, (body) => {
      if (!json) process.stderr.write(`${formatProgress(body)}\n`);
    }),
  );
  process.stdout.write(
    json ? `${outcome.result}\n` : `${formatResult(outcome.state, outcome.result)}\n`,
  );
  return outcome.state === 'done' ? 0 : 1;
}

async function plan(file: string | undefined, json: boolean): Promise<number> {
  if (file === undefined) throw new UsageError('plan needs a FILE (or - for stdin)');
  const document = await readDocument(file);
  const answer = await withClient((client) => client.plan(document));
  process.stdout.write(json ? `${answer}\n` : `${formatPlan(answer)}\n`);
  return 0;
}

/** Names the plugins Query could not read on stderr; true when there were any. */
function reportUnreadable(unreadable: Record<string, string> | undefined): boolean {
  const entries = Object.entries(unreadable ?? {});
  for (const [plugin, reason] of entries)
    process.stderr.write(`op-dbus: plugin '${plugin}' skipped: ${reason}\n`);
  return entries.length > 0;
}

/** Prints what could be read; exit 1 when a plugin could not be read (the document stays appliable). */
async function query(plugins: string[]): Promise<number> {
  const answer = JSON.parse(await withClient((client) => client.query(plugins))) as {
    unreadable?: Record<string, string>;
  };
  process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  return reportUnreadable(answer.unreadable) ? 1 : 0;
}

async function init(introspect: boolean, output: string | undefined): Promise<number> {
  if (!introspect)
    throw new UsageError('init needs --introspect (capture the machine through D-Bus)');
  const { unreadable, ...document } = JSON.parse(
    await withClient((client) => client.query([])),
  ) as { unreadable?: Record<string, string> };
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (output) await writeFile(output, text);
  else process.stdout.write(text);
  return reportUnreadable(unreadable) ? 1 : 0;
}

async function status(json: boolean): Promise<number> {
  const properties = await withClient((client) => client.managerProperties());
  const printable = Object.fromEntries(
    Object.entries(properties).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]),
  );
  process.stdout.write(json ? `${JSON.stringify(printable)}\n` : `${formatStatus(properties)}\n`);
  return 0;
}

async function verify(json: boolean): Promise<number> {
  const report = await withClient((client) => client.verify());
  process.stdout.write(json ? `${report}\n` : `${formatVerify(report)}\n`);
  return (JSON.parse(report) as { inSync: boolean }).inSync ? 0 : 1;
}

async function reconcile(json: boolean): Promise<number> {
  const outcome = await withClient((client) =>
    runJobAndWait(
      client,
      () => client.reconcile(),
      (body) => {
        if (!json) process.stderr.write(`${formatProgress(body)}\n`);
      },
    ),
  );
  process.stdout.write(
    json ? `${outcome.result}\n` : `${formatResult(outcome.state, outcome.result)}\n`,
  );
  return outcome.state === 'done' ? 0 : 1;
}

async function watch(): Promise<number> {
  const bus = await connectBus('system');
  const client = new StateManagerClient(bus);
  await client.watch((message) => {
    const line = formatSignal(message.member, message.body as unknown[]);
    if (line) process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  });
  process.stderr.write('watching org.opdbus.StateManager (Ctrl-C to stop)\n');
  return new Promise<number>((resolve) => {
    onBusClosed(bus, () => resolve(1));
    process.once('SIGINT', () => {
      bus.disconnect();
      resolve(0);
    });
  });
}

async function history(limit: number, check: boolean, json: boolean): Promise<number> {
  if (check) {
    const report = await withClient((client) => client.verifyHistory());
    const parsed = JSON.parse(report) as { ok: boolean };
    process.stdout.write(json ? `${report}\n` : `${formatLedgerReport(report)}\n`);
    return parsed.ok ? 0 : 1;
  }
  const records = await withClient((client) => client.history(limit));
  process.stdout.write(json ? `${records}\n` : `${formatHistory(records)}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Loaded on demand: the daemon's start-up does not pay for etcd's client, nor
  // a one-shot command for the daemon's modules (docs/performance.md).
  if (command === 'daemon') return (await import('../daemon/main.js')).runDaemonCommand(rest);
  if (command === 'fleet') return (await import('./fleet-commands.js')).runFleetCommand(rest);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      plugin: { type: 'string', short: 'p', multiple: true },
      introspect: { type: 'boolean', default: false },
      output: { type: 'string', short: 'o' },
      limit: { type: 'string', default: '20' },
      verify: { type: 'boolean', default: false },
      'confirm-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (
    values.help ||
    command === undefined ||
    command === 'help' ||
    command === '--help' ||
    command === '-h'
  ) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'apply':
      return apply(positionals[0], values.json, values['confirm-timeout']);
    case 'confirm':
      return withClient((client) => onPendingCheckpoint(client, 'Confirm'));
    case 'rollback':
      return withClient((client) => onPendingCheckpoint(client, 'Rollback'));
    case 'extend': {
      const seconds = Number(positionals[0]);
      if (!Number.isInteger(seconds) || seconds < 1)
        throw new UsageError('extend needs a whole number of seconds (at least 1)');
      return withClient((client) => onPendingCheckpoint(client, 'Extend', seconds));
    }
    case 'plan':
    case 'diff':
      return plan(positionals[0], values.json);
    case 'query':
      return query(values.plugin ?? []);
    case 'init':
      return init(values.introspect, values.output);
    case 'status':
      return status(values.json);
    case 'verify':
      return verify(values.json);
    case 'reconcile':
      return reconcile(values.json);
    case 'watch':
      return watch();
    case 'history':
      return history(Number(values.limit), values.verify, values.json);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage =
      err instanceof UsageError ||
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    process.stderr.write(`op-dbus: ${dbusErrorText(err)}\n${usage ? 'Try op-dbus --help.\n' : ''}`);
    process.exitCode = 2;
  },
);
