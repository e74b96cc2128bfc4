#!/usr/bin/env bash
# Comments, docs and test names speak of the project only. The planning documents netd was built
# from are not part of a clone, so citing them (a document by file name, a numbered rule, section
# or acceptance scenario, a path outside the tree) tells a reader nothing: name the behaviour
# instead, or put what a reader needs into README.md or a man page under man/.
# Checks every file of the checkout (tracked or new; `find` over the source folders without git).
# Prints file:line: text of every citation; exit 1 if any.
set -euo pipefail
root=${1:?usage: no_spec_refs.sh SOURCE_DIR}
cd "$root"

# The patterns are written so that this file does not match them itself.
docs='(acceptance|architecture|benchmarks|capabilities|conventions|fleet|policy)'
section=$'\xc2\xa7'  # the section sign, UTF-8
patterns=(
  "\\b${docs}\\.md\\b"                                              # a document by file name
  "\\b(conventions|capabilities)[[:space:]]+(rule|section|${section})"  # a rule or section of one
  "\\b[Aa]cceptance[[:space:]]*(scenarios?[[:space:]]+)?[0-9]"      # a numbered scenario, also in a test name
  "\\b[Ss]cenarios?[[:space:]]+[0-9]"
  "\\b[Tt]he spec\\b"
  "[.][.]/shared|shared/(spec)"                                     # paths outside the tree
)
regex=$(IFS='|'; echo "${patterns[*]}")

list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard
  else
    find bench bpf cmake lib man netd scripts tests tools .ci README.md CMakeLists.txt \
         -type f -print0 2>/dev/null || true
  fi
}

# The text files among them (a fuzz corpus or an image may hold any bytes).
mapfile -d '' files < <(list_files | while IFS= read -r -d '' f; do [[ -f $f ]] && printf '%s\0' "$f"; done |
                        xargs -0 -r grep -lIZ -e '' || true)
((${#files[@]} > 0)) || { echo "no files found under $root"; exit 1; }

found=$(grep -HnE -- "$regex" "${files[@]}" || true)
# Any other section sign must belong to an RFC citation ("RFC 8200", then the sign and "5"), on its
# line or ending the line before.
sections=$(awk -v sign="$section" '
             FNR == 1 { prev = "" }
             index($0, sign) && $0 !~ /RFC [0-9]+/ && prev !~ /RFC [0-9]+[[:space:]]*$/ {
               print FILENAME ":" FNR ":" $0 " (a section sign outside an RFC citation)"
             }
             { prev = $0 }' "${files[@]}")

if [[ -n $found || -n $sections ]]; then
  echo "citations of documents a clone does not have (name the behaviour, or move it into README.md / man/):"
  [[ -n $found ]] && echo "$found"
  [[ -n $sections ]] && echo "$sections"
  exit 1
fi
echo "no citation of documents outside the tree"
