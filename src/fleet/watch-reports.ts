import type { Etcd3 } from 'etcd3';
import { Backoff, revisionOf } from './etcd-client.js';
import { prefixRangeEnd, type FleetKeys } from './keys.js';
import { KeyWatch } from './key-watch.js';
import { parseReport, type ParsedReport } from './report.js';

export interface ReportNotice {
  readonly node: string;
  /** The new report (checked), or why it could not be read; `gone` for a node's alive key deleted. */
  readonly report: ParsedReport | 'alive' | 'gone';
  readonly revision: number;
}

/**
 * `op-dbus fleet watch`: every report and alive change under `<prefix>/nodes/`
 * from now on, on one watch. Resolves with a stop function once watching.
 */
export async function watchReports(
  client: Etcd3,
  keys: FleetKeys,
  notice: (change: ReportNotice) => void,
  trouble: (reason: string) => void,
): Promise<() => void> {
  const dir = keys.nodesDir();
  const now = await client.kv.range({ key: Buffer.from(dir), count_only: true });
  const watch = new KeyWatch(
    client,
    [{ key: dir, rangeEnd: prefixRangeEnd(dir) }],
    revisionOf(now.header.revision) + 1,
    {
      events: (_index, events) => {
        for (const event of events) {
          const parsed = keys.parseNodeKey(event.kv.key.toString('utf8'));
          if (!parsed || parsed.entry === 'desired') continue;
          const revision = revisionOf(event.kv.mod_revision);
          if (parsed.entry === 'alive') {
            notice({
              node: parsed.node,
              report: event.type === 'Delete' ? 'gone' : 'alive',
              revision,
            });
          } else if (event.type === 'Put') {
            notice({
              node: parsed.node,
              report: parseReport(event.kv.value, parsed.node),
              revision,
            });
          }
        }
      },
      connected: () => undefined,
      disconnected: trouble,
      cancelled: trouble,
    },
    new Backoff(500, 10_000),
  );
  watch.start();
  return () => watch.stop();
}
