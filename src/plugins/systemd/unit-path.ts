/** Where systemd exports its units: one object per unit, named by the escaped unit name. */
export const UNIT_PATH_PREFIX = '/org/freedesktop/systemd1/unit/';

/**
 * The unit name in a unit object path. systemd escapes every byte that is not a
 * letter or digit as `_xx` (bus_label_escape), e.g. nginx_2eservice.
 * Returns undefined for paths that are not a unit's.
 */
export function unitNameFromPath(path: string): string | undefined {
  if (!path.startsWith(UNIT_PATH_PREFIX)) return undefined;
  const label = path.slice(UNIT_PATH_PREFIX.length);
  if (label === '' || label.includes('/')) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < label.length; i += 1) {
    const char = label[i] as string;
    if (char === '_') {
      const hex = label.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/i.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(char.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The unit object path for a unit's primary name, escaped as systemd's
 * bus_label_escape does: every byte but a letter (or a digit after the first
 * byte) becomes `_xx` in lower-case hex.
 */
export function unitPathFromName(name: string): string {
  let label = '';
  for (const [index, byte] of [...Buffer.from(name, 'utf8')].entries()) {
    const char = String.fromCharCode(byte);
    const keep = /[A-Za-z]/.test(char) || (index > 0 && /[0-9]/.test(char));
    label += keep ? char : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return UNIT_PATH_PREFIX + label;
}
