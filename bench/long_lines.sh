#!/usr/bin/env bash
# Memory does not grow with line length times threads (issue 13, finding 10): etr's peak RSS on a
# file of JCL lines interleaved with a few very long lines, at one and at several worker threads.
#
#   bench/long_lines.sh [--lines N] [--mb M] [--threads "1 8"] [--no-build]
#
#   --lines N     how many long lines (default 8)
#   --mb M        the length of each long line, in MB (default 200)
#   --threads L   the thread counts to run with (default "1 8")
#   --no-build    use target/release/etr as it is
#
# The file (N x M MB, 1.6 GB by default) is cached as bench/out/long-<N>x<M>mb.psv. Each long line
# has no delimiter, so the run cuts it at the reader's 1 MiB line limit and rejects it under R0;
# before the limit, each chunk in flight grew to its longest line (200 MB lines: 466 MB at one
# thread, 3.97 GB at eight).
set -euo pipefail

die() { echo "long_lines.sh: error: $*" >&2; exit 1; }
lines=8
mb=200
threads="1 8"
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) [ $# -ge 2 ] || die "--lines needs a value"; lines="$2"; shift 2 ;;
    --mb) [ $# -ge 2 ] || die "--mb needs a value"; mb="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; threads="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ "$lines" =~ ^[1-9][0-9]*$ && "$mb" =~ ^[1-9][0-9]*$ ]] || die "--lines and --mb must be positive integers"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
mkdir -p "$here/out"
input="$here/out/long-${lines}x${mb}mb.psv"
sample="$root/tests/corpus/w1/jcl_1k/input.psv"
if [ ! -s "$input" ]; then
  echo "long_lines.sh: making $input" >&2
  {
    head -n 1 "$sample"
    for _ in $(seq "$lines"); do
      sed -n '2,101p' "$sample"
      head -c "$((mb * 1000000))" /dev/zero | tr '\0' 'x'
      echo
    done
  } > "$input.tmp"
  mv "$input.tmp" "$input"
fi
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build --release --quiet)
fi
etr="$root/target/release/etr"
printf 'threads\tpeak_rss_kib\twall_s\texit\n'
for t in $threads; do
  out="$here/out/long-lines-out"
  log="$here/out/long-lines-t$t.time"
  set +e
  /usr/bin/time -v -o "$log" "$etr" run "$root/contributors/jcl.etr" "$input" --out "$out" --threads "$t" --quiet
  status=$?
  set -e
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  printf '%s\t%s\t%s\t%s\n' "$t" "$rss" "$wall" "$status"
done
