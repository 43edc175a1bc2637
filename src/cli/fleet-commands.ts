import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../daemon/config.js';
import { buildDocumentSchema } from '../document/document.js';
import { DocumentValidator } from '../document/validator.js';
import { FLEET_DEFAULTS, type FleetSettingsFile } from '../fleet/config.js';
import { connectEtcd } from '../fleet/etcd-client.js';
import { FleetKeys } from '../fleet/keys.js';
import { publishLayer, PublishError } from '../fleet/publish.js';
import { fleetStatus, formatStatusLine } from '../fleet/status.js';
import { watchReports } from '../fleet/watch-reports.js';
import { PLUGINS } from '../plugins/registry.js';

export const FLEET_USAGE = `Usage: op-dbus fleet COMMAND [OPTIONS]

  publish FILE --group NAME | --node ID [--expect-revision N]
                  validate FILE, then write it as the group's or node's desired layer
                  (compare-and-swap: a stale --expect-revision is refused); prints the revision
  status [--group NAME] [--json] [--lag SECONDS]
                  one line per node; exit 1 when a node failed, lags or is dead
  watch           follow the nodes' reports live

The etcd endpoints, prefix and credentials come from the daemon's configuration file
(--config FILE, default ${DEFAULT_CONFIG_FILE}, its "fleet" section); --endpoints URL,URL
and --prefix override them.`;

class FleetUsageError extends Error {}

async function fleetSettings(values: {
  config?: string;
  endpoints?: string;
  prefix?: string;
}): Promise<FleetSettingsFile & { prefix: string }> {
  const file = await readConfigFile(
    values.config ?? DEFAULT_CONFIG_FILE,
    values.config !== undefined,
    PLUGINS,
  );
  const endpoints = values.endpoints?.split(',') ?? file.fleet?.endpoints;
  if (!endpoints || endpoints.length === 0)
    throw new FleetUsageError(
      'no etcd endpoints: give --endpoints or a "fleet" section in the configuration',
    );
  return {
    ...file.fleet,
    endpoints,
    prefix: values.prefix ?? file.fleet?.prefix ?? FLEET_DEFAULTS.prefix,
  };
}

/** `op-dbus fleet ...`: talks to etcd directly (the daemon is a node, not the publisher). */
export async function runFleetCommand(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      endpoints: { type: 'string' },
      prefix: { type: 'string' },
      group: { type: 'string' },
      node: { type: 'string' },
      'expect-revision': { type: 'string' },
      lag: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
    },
  });
  if (command === undefined || !['publish', 'status', 'watch'].includes(command)) {
    process.stdout.write(`${FLEET_USAGE}\n`);
    return command === undefined ? 2 : command === 'help' ? 0 : 2;
  }
  const settings = await fleetSettings(values);
  const keys = new FleetKeys(settings.prefix);
  const client = await connectEtcd({
    ...FLEET_DEFAULTS,
    ...settings,
  });
  try {
    switch (command) {
      case 'publish':
        return await publish(client, keys, positionals[0], values);
      case 'status': {
        const status = await fleetStatus(client, keys, {
          ...(values.group ? { group: values.group } : {}),
          lagMs: Number(values.lag) * 1000,
        });
        process.stdout.write(
          values.json
            ? `${JSON.stringify(status)}\n`
            : `${status.nodes.map(formatStatusLine).join('\n') || 'No nodes.'}\n`,
        );
        return status.exitCode;
      }
      default:
        return await watch(client, keys);
    }
  } finally {
    client.close();
  }
}

async function publish(
  client: Awaited<ReturnType<typeof connectEtcd>>,
  keys: FleetKeys,
  file: string | undefined,
  values: { group?: string; node?: string; 'expect-revision'?: string },
): Promise<number> {
  if (!file) throw new FleetUsageError('publish needs a FILE');
  if ((values.group === undefined) === (values.node === undefined))
    throw new FleetUsageError('publish needs exactly one of --group NAME and --node ID');
  const validator = new DocumentValidator(buildDocumentSchema(PLUGINS));
  const expect = values['expect-revision'];
  try {
    const { key, revision } = await publishLayer({
      client,
      keys,
      target:
        values.group !== undefined ? { group: values.group } : { node: values.node as string },
      text: await readFile(file, 'utf8'),
      ...(expect !== undefined ? { expectRevision: Number(expect) } : {}),
      validate: (document) => void validator.check(document),
    });
    process.stdout.write(`Published ${key} at revision ${revision}.\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof PublishError)) throw err;
    process.stderr.write(`op-dbus: ${err.message}\n`);
    return 1;
  }
}

async function watch(
  client: Awaited<ReturnType<typeof connectEtcd>>,
  keys: FleetKeys,
): Promise<number> {
  const stop = await watchReports(
    client,
    keys,
    (notice) => {
      const what =
        typeof notice.report === 'string' ? notice.report : JSON.stringify(notice.report);
      process.stdout.write(`${new Date().toISOString()} ${notice.node} ${what}\n`);
    },
    (reason) => process.stderr.write(`op-dbus: ${reason}\n`),
  );
  process.stderr.write('watching the fleet (Ctrl-C to stop)\n');
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  stop();
  return 0;
}
