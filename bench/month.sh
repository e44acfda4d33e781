#!/usr/bin/env bash
# A bureau's month from landing to the lake (issue 17): 70 contributor files, 3.5M lines in all,
# sized like the bureau's (the 9 largest contributors send 91% of the lines, the largest 38%), taken
# through `etr ingest` (archive, ledger, engine, lake) by one worker, side by side with a Python peer
# pipeline (the W1 Polars script per file, then a pyiceberg append per file: bench/month_peer.py).
#
#   bench/month.sh [--lines N] [--files F] [--seed S] [--engine jit|interp] [--no-build] [--only etr|peer]
#
# The files are generated once per (lines, files, seed) with ../shared/bench/gen_jcl.py into
# bench/out/month-<lines>-<files>-s<seed>/files/<contributor>/; every contributor sends JCL's
# layout (the corpus has one contributor of that size), under its own name C01..C70.
# Each run gets a fresh workspace or peer folder, and starts after a `sync` (no writeback of an
# earlier run's files competing with it). Prints the wall time, peak RSS, records in the lake
# and, for etr, the engine's share and the per-file overhead (everything but the engine: archive,
# ledger, lake write and commit), from the runs' summaries. Needs bench/.venv (bench/setup-venv.sh).
set -euo pipefail

die() { echo "month.sh: error: $*" >&2; exit 1; }
say() { echo "month.sh: $*" >&2; }

lines=3500000
files=70
seed=7
engine=jit
build=1
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) lines="$2"; shift 2 ;;
    --files) files="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ "$lines" =~ ^[1-9][0-9]*$ ]] || die "--lines must be a positive integer"
[[ "$files" =~ ^[0-9]+$ ]] && [ "$files" -ge 10 ] || die "--files must be 10 or more"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
shared="$(cd "$root/../shared/bench" 2>/dev/null && pwd)" || die "../shared/bench is not beside the repository"
py="$here/.venv/bin/python"
[ -x "$py" ] || die "no bench/.venv: run bench/setup-venv.sh"
etr="$root/target/release/etr"
if [ "$build" -eq 1 ]; then
  (cd "$root" && cargo build --release -p etr-cli >&2)
fi
[ -x "$etr" ] || die "no $etr (build it, or drop --no-build)"

out="$here/out/month-$lines-$files-s$seed"
data="$out/files"
if [ ! -f "$data/.complete" ]; then
  say "generating $files files, $lines lines in all, into $data"
  mkdir -p "$data"
  # Sizes: the largest 38%, the next 8 share 53% (geometrically), the other files share 9% evenly.
  "$py" - "$lines" "$files" > "$out.sizes" <<'PY'
import sys
total, n = int(sys.argv[1]), int(sys.argv[2])
largest = round(total * 0.38)
ratios = [0.76 ** i for i in range(8)]
next8 = [round(total * 0.53 * r / sum(ratios)) for r in ratios]
rest = total - largest - sum(next8)
small = [rest // (n - 9)] * (n - 9)
small[0] += rest - sum(small)
for i, size in enumerate([largest] + next8 + small):
    print(f"C{i + 1:02d} {max(size, 1)}")
PY
  # File by file, each under a temporary name until whole: an interrupted generation resumes.
  while read -r name size; do
    file="$data/$name/${name}_202506.psv"
    [ -f "$file" ] && continue
    mkdir -p "$data/$name"
    "$py" "$shared/gen_jcl.py" --rows "$size" --seed "$((seed + 10#${name#C}))" --out "$file.tmp" >/dev/null \
      || die "gen_jcl.py failed for $name"
    rm -f "$file.tmp.labels.tsv"
    mv "$file.tmp" "$file"
  done < "$out.sizes"
  [ "$(ls "$data" | wc -l)" -eq "$files" ] || die "generated $(ls "$data" | wc -l) folders, not $files"
  touch "$data/.complete"
fi
total_lines=$(awk '{ s += $2 } END { print s }' "$out.sizes")
say "month: $(ls "$data" | wc -l) contributors, $total_lines data lines ($(du -sh "$data" | cut -f1))"

run_etr() {
  local ws="$out/etr-workspace"
  rm -rf "$ws"
  mkdir -p "$ws"
  {
    echo "contributors:"
    for dir in "$data"/*/; do
      local name; name="$(basename "$dir")"
      printf '  %s:\n    spec: %s\n    files: "%s_{YYYY}{MM}.psv"\n' "$name" "$root/contributors/jcl.etr" "$name"
    done
  } > "$ws/etr.yaml"
  # Neither implementation starts behind the disk's writeback of what ran before it.
  sync
  say "etr: ingest --engine $engine, one worker"
  /usr/bin/time -f "%e %M" -o "$out/etr.time" "$etr" ingest --workspace "$ws" --engine "$engine" "$data"/*/*.psv \
    > "$out/etr.log" 2> "$out/etr.err" || { tail -5 "$out/etr.err" >&2; die "etr ingest failed"; }
  read -r wall rss_kb < "$out/etr.time"
  "$py" - "$ws" "$wall" "$rss_kb" <<'PY'
import glob, json, sys
ws, wall, rss_kb = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
summaries = [json.load(open(p)) for p in glob.glob(f"{ws}/state/runs/*/summary.json")]
engine_s = sum(s["timings_ms"]["total"] for s in summaries) / 1000
accepted = sum(s["accepted"] for s in summaries)
n = len(summaries)
print(json.dumps({"impl": "etr", "files": n, "records": accepted, "seconds": wall, "rss_mib": round(rss_kb / 1024),
                  "engine_seconds": round(engine_s, 2),
                  "overhead_per_file_ms": round((wall - engine_s) * 1000 / max(n, 1), 1)}))
PY
}

run_peer() {
  local work="$out/peer"
  rm -rf "$work"
  sync
  say "peer: w1_polars.py per file + pyiceberg append"
  /usr/bin/time -f "%e %M" -o "$out/peer.time" "$py" "$here/month_peer.py" "$data" "$work" > "$out/peer.json" 2> "$out/peer.err" \
    || { tail -5 "$out/peer.err" >&2; die "the peer failed"; }
  read -r wall rss_kb < "$out/peer.time"
  "$py" -c "import json,sys; d=json.load(open('$out/peer.json')); d.update(impl='peer', seconds=$wall, rss_mib=round($rss_kb/1024)); print(json.dumps(d))"
}

case "$only" in
  etr) run_etr ;;
  peer) run_peer ;;
  "") run_etr; run_peer ;;
  *) die "--only etr or peer" ;;
esac
