#!/usr/bin/env bash
# The tests and the sandbox run real services from Debian packages. Install any
# that are missing (a no-op on a machine that has them); needs root and apt.
set -euo pipefail
# Open vSwitch without recommends, so that nothing upgrades systemd or udev in place.
if ! dpkg-query -W -f='${Status}' openvswitch-switch 2>/dev/null | grep -q 'install ok installed'; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "op-dbus needs openvswitch-switch: apt-get install -y --no-install-recommends openvswitch-switch" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openvswitch-switch
fi
# NetworkManager without recommends, and udev pinned to the installed systemd: udev's
# newer point release would otherwise upgrade systemd in place.
if ! dpkg-query -W -f='${Status}' network-manager 2>/dev/null | grep -q 'install ok installed'; then
  systemd_version=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)
  nm_install=(--no-install-recommends network-manager ${systemd_version:+"udev=$systemd_version"})
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "op-dbus needs network-manager: apt-get install -y ${nm_install[*]}" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${nm_install[@]}"
fi
# apt-utils, gpg and gpg-agent build the showcase's signed apt archive; etcd and openssl
# run the fleet tests' cluster and make its certificates.
packages=(dbus dbus-bin packagekit packagekit-tools polkitd systemd apt-utils gpg gpg-agent etcd-server etcd-client openssl)
# The Cockpit page's browser test. Without their recommends: those pull in udev,
# which upgrades systemd in place (see ../shared/ENVIRONMENT.md).
lean_packages=(cockpit-ws cockpit-bridge chromium)
missing_of() {
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || echo "$package"
  done
}
mapfile -t missing < <(missing_of "${packages[@]}")
mapfile -t missing_lean < <(missing_of "${lean_packages[@]}")
[ ${#missing[@]} -eq 0 ] && [ ${#missing_lean[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "op-dbus needs these Debian packages: ${missing[*]} ${missing_lean[*]}" >&2
  echo "Install them as root (after apt-get update):" >&2
  [ ${#missing[@]} -eq 0 ] || echo "  apt-get install -y ${missing[*]}" >&2
  [ ${#missing_lean[@]} -eq 0 ] ||
    echo "  apt-get install -y --no-install-recommends ${missing_lean[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]} ${missing_lean[*]}"
apt-get update -q
[ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
[ ${#missing_lean[@]} -eq 0 ] ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing_lean[@]}"
