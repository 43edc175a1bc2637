import type { PluginContext } from '../../engine/plugin.js';
import { infoPhase } from './enums.js';
import type { TransactionEvent } from './packagekit-client.js';

/**
 * Turns PackageKit's transaction signals into Progress reports. Status sets the
 * phase, Percentage moves the whole step ('' resource), and Package/ItemProgress
 * move one package.
 */
export function progressReporter(
  names: Set<string>,
  ctx: PluginContext,
): (event: TransactionEvent) => void {
  let phase = 'resolving';
  let status = 'setup';
  let percent = 0;
  return (event) => {
    switch (event.type) {
      case 'status':
        if (event.phase === 'finished' || event.phase === phase) return;
        phase = event.phase;
        status = event.status;
        ctx.progress({ resource: '', phase, percent, message: status });
        return;
      case 'percentage':
        if (event.percent === percent) return;
        percent = event.percent;
        ctx.progress({ resource: '', phase, percent, message: status });
        return;
      case 'package': {
        const packagePhase = infoPhase(event.package.info);
        if (packagePhase && names.has(event.package.name)) {
          ctx.progress({
            resource: event.package.name,
            phase: packagePhase,
            percent,
            message: event.package.id,
          });
        }
        return;
      }
      case 'item-progress': {
        const name = event.id.split(';')[0] ?? '';
        if (names.has(name))
          ctx.progress({
            resource: name,
            phase: event.phase,
            percent: event.percent,
            message: event.id,
          });
        return;
      }
    }
  };
}
