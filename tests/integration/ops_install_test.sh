#!/usr/bin/env bash
# `cmake --install` into a DESTDIR lays out what ops need; the unit names the installed paths
# and rates an exposure of 1.5 or lower in `systemd-analyze security`; the Prometheus alert
# rules are valid and fire when they should; with prefix /usr, `cpack -G DEB` builds a package
# whose control scripts create the user and never start the service by themselves.
# Usage: ops_install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[ -n "$prefix" ] || fail "no CMAKE_INSTALL_PREFIX in $build/CMakeCache.txt"
if [ "$prefix" = /usr ]; then etc=/etc; else etc=$prefix/etc; fi

DESTDIR="$work/root" cmake --install "$build" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
root="$work/root"
for f in "$prefix/bin/crisisd" \
         "$prefix/lib/systemd/system/crisisd.service" \
         "$prefix/lib/sysusers.d/crisisd.conf" \
         "$prefix/lib/tmpfiles.d/crisisd.conf" \
         "$etc/crisisd/crisisd.yaml" \
         "$prefix/share/crisisd/prometheus/crisisd-alerts.yaml" \
         "$prefix/share/doc/crisisd/README.md"; do
  [ -e "$root$f" ] || fail "missing $f"
done
[ -x "$root$prefix/bin/crisisd" ] || fail "crisisd is not executable"
ls "$root$etc/crisisd/rules/"*.yaml >/dev/null 2>&1 || fail "no rules in $etc/crisisd/rules"
ls "$root$etc/crisisd/playbooks/"*.yaml >/dev/null 2>&1 || fail "no playbooks in $etc/crisisd/playbooks"
[ -d "$root$etc/crisisd/credentials" ] || fail "no $etc/crisisd/credentials"
[ "$(stat -c %a "$root$etc/crisisd/credentials")" = 700 ] || fail "credentials directory is not 0700"

unit="$root$prefix/lib/systemd/system/crisisd.service"
grep -qx "ExecStart=$prefix/bin/crisisd run --config $etc/crisisd/crisisd.yaml" "$unit" || fail "ExecStart names the wrong paths"
grep -qx "Type=notify" "$unit" || fail "unit is not Type=notify"
grep -qx "RestartPreventExitStatus=78 65 79" "$unit" || fail "no RestartPreventExitStatus=78 65 79 (config errors, refused state database, undrained single-node state)"
grep -q "^WatchdogSec=" "$unit" || fail "no WatchdogSec"

# The installed binary runs, and accepts the installed example configuration with its rules
# and playbooks once the credentials it names exist (here in a stand-in directory).
"$root$prefix/bin/crisisd" version | grep -q "^crisisd " || fail "installed crisisd does not run"
mkdir -p "$work/creds"
for n in $(grep -o 'crisisd\.service/[A-Za-z0-9_.-]*' "$root$etc/crisisd/crisisd.yaml" | sed 's#.*/##'); do
  echo "token-$n" > "$work/creds/$n"
done
sed "s#/run/credentials/crisisd.service/#$work/creds/#g" "$root$etc/crisisd/crisisd.yaml" > "$root$etc/crisisd/check.yaml"
"$root$prefix/bin/crisisd" check-config --config "$root$etc/crisisd/check.yaml" >"$work/check.log" 2>&1 ||
  { cat "$work/check.log"; fail "the installed example configuration does not pass check-config"; }

# Issue 13: a flood the listeners' caps miss must not take the host with it.
for key in MemoryMax TasksMax LimitNOFILE; do
  grep -q "^$key=" "$unit" || fail "the unit sets no $key="
done

if command -v systemd-analyze >/dev/null; then
  # systemd-analyze checks that the ExecStart binary exists; point it at the one in DESTDIR.
  sed "s#^ExecStart=$prefix/bin/crisisd#ExecStart=$root$prefix/bin/crisisd#" "$unit" > "$work/crisisd.service"
  systemd-analyze verify "$work/crisisd.service" 2>"$work/verify.log" || { cat "$work/verify.log"; fail "systemd-analyze verify"; }
  exposure=$(systemd-analyze security --offline=true "$src/deploy/crisisd.service" 2>&1 |
             sed -n 's/.*Overall exposure level for crisisd.service: \([0-9.]*\).*/\1/p')
  [ -n "$exposure" ] || fail "no exposure level from systemd-analyze security"
  echo "systemd-analyze security exposure: $exposure"
  awk -v e="$exposure" 'BEGIN { exit !(e <= 1.5) }' || fail "exposure $exposure is above 1.5"
else
  echo "systemd-analyze not installed: unit checks skipped"
fi

if command -v promtool >/dev/null; then
  promtool check rules "$src/deploy/prometheus/crisisd-alerts.yaml" || fail "promtool check rules"
  promtool test rules "$src/deploy/prometheus/crisisd-alerts.test.yaml" || fail "promtool test rules"
else
  echo "promtool not installed: alert rule checks skipped"
fi

if [ "$prefix" = /usr ] && command -v dpkg-deb >/dev/null; then
  (cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1) ||
    { cat "$work/cpack.log"; fail "cpack -G DEB"; }
  deb=$(ls "$work"/pkg/crisisd_*.deb)
  dpkg-deb -c "$deb" > "$work/contents"
  for f in ./usr/bin/crisisd ./usr/lib/systemd/system/crisisd.service ./usr/lib/sysusers.d/crisisd.conf \
           ./etc/crisisd/crisisd.yaml; do
    grep -q " $f\$" "$work/contents" || fail ".deb lacks $f"
  done
  dpkg-deb -e "$deb" "$work/control"
  grep -qx /etc/crisisd/crisisd.yaml "$work/control/conffiles" || fail "crisisd.yaml is not a conffile"
  grep -q "systemd-sysusers" "$work/control/postinst" || fail "postinst does not create the user"
  grep -q "daemon-reload" "$work/control/postinst" || fail "postinst does not reload systemd"
  if grep -v '^[[:space:]]*#' "$work/control/postinst" | grep -Eq "systemctl (enable|start)"; then
    fail "postinst enables or starts the service"
  fi
  echo "built $(basename "$deb")"
else
  echo "prefix is $prefix: the .deb is built from a tree configured with -DCMAKE_INSTALL_PREFIX=/usr (skipped)"
fi
echo "install layout OK"
