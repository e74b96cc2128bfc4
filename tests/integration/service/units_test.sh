#!/bin/sh
# netd.service and netd.socket as `cmake --install` writes them: they name the installed netd
# and policy, `systemd-analyze verify` has nothing to say (the man pages they cite are found in
# the install), the service's exposure (`systemd-analyze security`) is at most 3.0, the policy
# installed is valid and grants nothing, and a policy already there is never overwritten.
# Usage: units_test.sh BUILD_DIR
set -eu
build=$1
prefix=$(mktemp -d /tmp/netd-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "units_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
units=$prefix/lib/systemd/system
grep -qx "ExecStart=$prefix/sbin/netd --foreground --policy $prefix/etc/netd/policy.toml" "$units/netd.service" ||
  fail "netd.service does not start the installed netd with the installed policy"

said=$(MANPATH=$prefix/share/man systemd-analyze verify "$units/netd.socket" "$units/netd.service" 2>&1) ||
  fail "systemd-analyze verify failed: $said"
[ -z "$said" ] || fail "systemd-analyze verify: $said"

exposure=$(systemd-analyze security --offline=yes --threshold=30 "$units/netd.service" | tail -n 1) ||
  fail "exposure above 3.0: $exposure"
echo "$exposure"

"$prefix/sbin/netd" --check-policy "$prefix/etc/netd/policy.toml" | grep -qx '0 slices' ||
  fail "the installed policy is not valid or grants something"

echo "# the admin's own line" >> "$prefix/etc/netd/policy.toml"
cmake --install "$build" --prefix "$prefix" >/dev/null
grep -qx "# the admin's own line" "$prefix/etc/netd/policy.toml" || fail "a second install overwrote the policy"
echo "units_test: ok"
