#!/usr/bin/env bash
# Memory does not grow with the file (issue 4): etr's peak RSS on W1's 1,000,000-line file and on a
# 10,000,000-line file made from it, beside the key index each run reports. See bench/README.md.
#
#   bench/rss.sh [--times N] [--engine jit|interp] [--no-build]
#
#   --times N     how many copies the large file holds (default 10, at most 10)
#   --engine E    the engine (default: etr's default)
#   --no-build    use target/release/etr as it is
#
# Needs the 1M file bench/w1.sh caches (bench/out/jcl-1000000-s7.psv); makes it the way w1.sh does if
# it is missing. The large file is cached as bench/out/jcl-<N>000000-s7xN.psv (2.6 GB for N=10).
# Prints one row per run and the ratio of the peaks with and without the key index. W1's F4 allows
# at most 5,000,000 data lines, so the large file is refused as fatal: the run still reads, evaluates
# and writes every line (and then discards the accepted file), which is what is measured.
set -euo pipefail

die() { echo "rss.sh: error: $*" >&2; exit 1; }
times=10
engine=()
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --times) [ $# -ge 2 ] || die "--times needs a value"; times="$2"; shift 2 ;;
    --engine) [ $# -ge 2 ] || die "--engine needs a value"; engine=(--engine "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ "$times" =~ ^([2-9]|10)$ ]] || die "--times must be between 2 and 10, not '$times'"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
small="$here/out/jcl-1000000-s7.psv"
large="$here/out/jcl-${times}000000-s7x$times.psv"
if [ ! -s "$small" ]; then
  "$here/w1.sh" --rows 1000000 --rounds 1 --impls etr >&2 || die "bench/w1.sh could not make $small"
fi
if [ ! -s "$large" ]; then
  echo "rss.sh: writing $large" >&2
  python3 "$here/scale_jcl.py" --in "$small" --times "$times" --out "$large.tmp" && mv "$large.tmp" "$large" \
    || { rm -f "$large.tmp"; die "scale_jcl.py failed"; }
fi
if [ "$build" -eq 1 ]; then
  (cd "$root" && cargo build --release --quiet -p etr-cli) || die "cargo build failed"
fi
etr="$root/target/release/etr"
[ -x "$etr" ] || die "no $etr (build it, or drop --no-build)"

printf 'file\tlines\tpeak_rss_kib\tkey_index_kib\tbeyond_index_kib\twall_s\n'
declare -A peak beyond
for file in "$small" "$large"; do
  out="$(mktemp -d)"
  log="$(mktemp)"
  # Exit 3 is a fatal file (the large one breaks W1's F4): a complete run all the same.
  set +e
  /usr/bin/time -f '%M %e' -o "$log" "$etr" run "$root/contributors/jcl.etr" "$file" --out "$out/run" --quiet "${engine[@]}"
  status=$?
  set -e
  [ "$status" -eq 0 ] || [ "$status" -eq 3 ] || die "etr run failed on $file (exit $status)"
  # GNU time puts "Command exited with non-zero status N" first when the exit is not 0.
  read -r rss wall < <(tail -n 1 "$log")
  index_bytes="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["memory_bytes"].get("key_index", 0))' "$out/run/summary.json")"
  lines="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lines_read"])' "$out/run/summary.json")"
  index_kib=$((index_bytes / 1024))
  peak[$file]=$rss
  beyond[$file]=$((rss - index_kib))
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$file")" "$lines" "$rss" "$index_kib" "${beyond[$file]}" "$wall"
  rm -rf "$out" "$log"
done
python3 - "${peak[$small]}" "${peak[$large]}" "${beyond[$small]}" "${beyond[$large]}" <<'EOF'
import sys
p1, p10, b1, b10 = map(int, sys.argv[1:])
print(f"peak ratio large/small: {p10 / p1:.2f}; beyond the key index: {b10 / b1:.2f} (target: at most 1.5)")
EOF
