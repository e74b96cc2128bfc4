#!/usr/bin/env bash
# The include graph goes one way: lib <- policy, kernel <- ops <- server?, daemon <- main.
#   lib     includes nothing of netd/ (clients link it alone)
#   policy  includes only policy and lib (pure: request + policy -> verdict)
#   kernel  includes only kernel and lib (thin executors)
#   ops     includes no server/ or daemon/ header (requests reach ops as plain values)
#   daemon/ is included only by daemon/ and netd/main.cc (the composition root calls down, nothing calls up)
# Includes that break a rule today are listed in allowed_exceptions.txt beside this script, one
# "file:include" per line; the list may only shrink. Prints every violation; exit 1 if any.
set -euo pipefail
root=${1:?usage: check_layers.sh SOURCE_DIR}
exceptions="$(dirname "$0")/allowed_exceptions.txt"
cd "$root"

violations=()
stale=()
check() {  # check DIR ALLOWED_REGEX WHY: every netd/ include in DIR matches ALLOWED_REGEX
  local dir=$1 allowed=$2 why=$3 file include
  while IFS=: read -r file include; do
    [[ $include =~ $allowed ]] && continue
    if grep -qxF "$file:$include" "$exceptions"; then continue; fi
    violations+=("$file includes $include: $why")
  done < <(grep -rhoE --include='*.h' --include='*.cc' --include='*.c' -H '^#include "netd/[^"]+"' "$dir" |
           sed -E 's/:#include "([^"]+)"/:\1/')
}
check lib '^$' "lib/ is what clients link; it includes nothing of netd/"
check netd/policy '^netd/policy/' "policy is pure: it includes only policy/ and lib/"
check netd/kernel '^netd/kernel/' "kernel backends include only kernel/ and lib/"
check netd/ops '^netd/(ops|policy|kernel)/' "ops includes no server/ or daemon/ header"
check netd/server '^netd/server/' "server includes only server/ and lib/"
check tools '^$' "tools talk to netd over Varlink (lib/client), never link its code"
# daemon/ is the composition root: only itself and main.cc include it.
while IFS=: read -r file include; do
  case $file in netd/daemon/*|netd/main.cc) continue ;; esac
  grep -qxF "$file:$include" "$exceptions" && continue
  violations+=("$file includes $include: only netd/daemon/ and netd/main.cc include daemon/")
done < <(grep -rhoE --include='*.h' --include='*.cc' -H '^#include "netd/daemon/[^"]+"' netd lib tools |
         sed -E 's/:#include "([^"]+)"/:\1/')

# An exception no longer needed must leave the list, so it cannot be reused silently.
while read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  file=${line%%:*} include=${line#*:}
  grep -qxF "#include \"$include\"" "$file" 2>/dev/null || stale+=("$line")
done < "$exceptions"

for v in "${violations[@]}"; do echo "layer violation: $v"; done
for s in "${stale[@]}"; do echo "stale exception (remove it from allowed_exceptions.txt): $s"; done
if ((${#violations[@]} + ${#stale[@]} > 0)); then exit 1; fi
echo "include graph: every layer includes only what it may ($(grep -cv '^#' "$exceptions") listed exceptions left)"
