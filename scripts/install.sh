#!/usr/bin/env bash
# Installs op-dbus on this host: the built program, the systemd unit, the D-Bus
# policy and activation files, the Cockpit page, and enables the service.
#
#   npm ci && npm run build && sudo npm run install-host
#   sudo bash scripts/install.sh [--destdir DIR] [--no-enable]
#
# --destdir DIR  install under DIR (for packaging and tests); implies --no-enable
# --no-enable    do not reload systemd/dbus nor enable and start the service
set -euo pipefail
cd "$(dirname "$0")/.."

destdir=""
enable=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --destdir) destdir="$2"; enable=no; shift 2 ;;
    --no-enable) enable=no; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

[ -f dist/cli/main.js ] || { echo "build first: npm ci && npm run build" >&2; exit 1; }
node_bin="$(command -v node)"
libdir="$destdir/usr/lib/op-dbus"

install -d -m 0755 "$libdir" "$destdir/usr/bin" "$destdir/etc/systemd/system" \
  "$destdir/usr/share/dbus-1/system.d" "$destdir/usr/share/dbus-1/system-services" \
  "$destdir/usr/share/polkit-1/actions" "$destdir/etc/op-dbus"

# The program: what dist/ needs at run time, and production dependencies only.
rm -rf "$libdir/dist" "$libdir/node_modules"
cp -a package.json package-lock.json dist dbus-interfaces docs "$libdir/"
cp -a node_modules "$libdir/node_modules"
(cd "$libdir" && npm prune --omit=dev --no-audit --no-fund >/dev/null)

cat > "$destdir/usr/bin/op-dbus" <<WRAPPER
#!/bin/sh
exec $node_bin /usr/lib/op-dbus/dist/cli/main.js "\$@"
WRAPPER
chmod 0755 "$destdir/usr/bin/op-dbus"

install -m 0644 systemd/op-dbus.service "$destdir/etc/systemd/system/op-dbus.service"
install -m 0644 dbus-interfaces/org.opdbus.StateManager.conf "$destdir/usr/share/dbus-1/system.d/"
install -m 0644 dbus-interfaces/org.opdbus.StateManager.service "$destdir/usr/share/dbus-1/system-services/"
if [ -f dbus-interfaces/org.opdbus.policy ]; then
  install -m 0644 dbus-interfaces/org.opdbus.policy "$destdir/usr/share/polkit-1/actions/"
fi
# The Cockpit page (plain files, no build step): Cockpit lists it under "op-dbus".
cockpitdir="$destdir/usr/share/cockpit/op-dbus"
rm -rf "$cockpitdir"
install -d -m 0755 "$cockpitdir/js"
install -m 0644 cockpit/op-dbus/manifest.json cockpit/op-dbus/index.html cockpit/op-dbus/*.css "$cockpitdir/"
install -m 0644 cockpit/op-dbus/js/*.js "$cockpitdir/js/"

[ -f "$destdir/etc/op-dbus/op-dbus.json" ] || echo '{}' > "$destdir/etc/op-dbus/op-dbus.json"

echo "op-dbus installed under ${destdir:-/}"
if [ "$enable" = yes ]; then
  if [ -d /run/systemd/system ]; then
    systemctl reload dbus.service || true
    systemctl daemon-reload
    systemctl enable --now op-dbus.service
    echo "op-dbus.service enabled and started: systemctl status op-dbus"
  else
    echo "systemd is not running here: start it yourself with /usr/bin/op-dbus daemon"
  fi
fi
