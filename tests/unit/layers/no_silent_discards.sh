#!/usr/bin/env bash
# No failure is thrown away in netd/ops and netd/daemon. Result and Status are [[nodiscard]], so
# dropping one takes a cast: `(void)`, `static_cast<void>(` or `std::ignore =`. Every such line in
# those folders must match an entry of allowed_discards.txt beside this script, "file:text" (text
# a substring of the line), kept for calls whose result is no Result/Status (sd_notify's int):
# a rollback or teardown step checks its outcome (with_undo, TeardownReport) instead. An entry
# that matches no line any more must go. Prints every unlisted discard; exit 1 if any.
set -euo pipefail
root=${1:?usage: no_silent_discards.sh SOURCE_DIR}
allowed="$(cd "$(dirname "$0")" && pwd)/allowed_discards.txt"
cd "$root"

entries=()
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  entries+=("$line")
done < "$allowed"

listed() {  # listed FILE TEXT: an entry for FILE whose text is in TEXT
  local entry
  for entry in "${entries[@]}"; do
    [[ ${entry%%:*} == "$1" && $2 == *"${entry#*:}"* ]] && return 0
  done
  return 1
}

discards=()
while IFS= read -r hit; do
  file=${hit%%:*} rest=${hit#*:} text=${rest#*:}
  listed "$file" "$text" || discards+=("$hit")
done < <(grep -rnE --include='*.h' --include='*.cc' '\(void\)|static_cast<void>\(|std::ignore *=' netd/ops netd/daemon || true)

stale=()
for entry in "${entries[@]}"; do
  grep -qF -- "${entry#*:}" "${entry%%:*}" 2>/dev/null || stale+=("$entry")
done

for d in "${discards[@]}"; do echo "discarded result: $d (check it: with_undo, TeardownReport, or log it)"; done
for s in "${stale[@]}"; do echo "stale entry (remove it from allowed_discards.txt): $s"; done
if ((${#discards[@]} + ${#stale[@]} > 0)); then exit 1; fi
echo "netd/ops, netd/daemon: no discarded result outside the ${#entries[@]} listed calls"
