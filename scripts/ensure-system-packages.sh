#!/usr/bin/env bash
# The tests and the sandbox run real services from Debian packages. Install any
# that are missing (a no-op on a machine that has them); needs root and apt.
set -euo pipefail
packages=(dbus dbus-bin packagekit packagekit-tools polkitd systemd network-manager)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "op-dbus needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  echo "(network-manager with --no-install-recommends udev=<installed systemd's version>)" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -q
base=()
for package in "${missing[@]}"; do [ "$package" = network-manager ] || base+=("$package"); done
[ ${#base[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${base[@]}"
if [ ${#base[@]} -ne ${#missing[@]} ]; then
  # No recommends, and udev pinned to the installed systemd: udev's newer point
  # release would otherwise upgrade systemd in place.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends network-manager \
    "udev=$(dpkg-query -W -f='${Version}' systemd)"
fi
