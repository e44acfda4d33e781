#!/usr/bin/env bash
# A fuzz campaign: every target (or the ones named) for N minutes each, in release, with the real
# `etr` binary for the kill and lsp-protocol targets.
#
#   fuzz/campaign.sh [--minutes N] [--seed S] [target...]
#
# Targets: spec lsp lsp-protocol data kill (default: all). Progress lines go to stderr every 10 s;
# each target ends with its counts (cases, checks held per oracle, findings). New failures are
# minimised and saved under fuzz/findings/<target>/. The exit status is 1 when any target met a
# failure not saved before.
set -euo pipefail

minutes=5
seed=$(date +%s)
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=(spec lsp lsp-protocol data kill)

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build --release -p etr-cli -p etr-fuzz
fuzz="$root/target/release/etr-fuzz"

status=0
for target in "${targets[@]}"; do
  echo "=== $target: $minutes min, seed $seed"
  "$fuzz" "$target" --seed "$seed" --minutes "$minutes" || status=1
done
exit $status
