#!/usr/bin/env bash
# Workload W1 (../shared/bench/W1.md): time etr against the Polars and DuckDB baselines on one
# generated JCL file, then check that their outputs agree. See bench/README.md.
#
#   bench/w1.sh [--rows N] [--rounds R] [--seed S] [--impls "etr polars duckdb"] [--etr-args "..."]
#
#   --rows N       data lines in the generated file (default 1000000)
#   --rounds R     runs of each implementation (default 5); the order rotates every round
#   --seed S       generator seed (default 7)
#   --impls LIST   which implementations, space-separated (default "etr-jit etr-interp polars duckdb"):
#                  etr (its default engine), etr-jit, etr-interp (`--engine jit|interp`); any other
#                  name X runs ../shared/bench/w1_X.py (pandas works too; gx needs great-expectations)
#   --etr-args S   extra arguments for `etr run`, split on blanks
#   --no-build     do not run cargo: bench the etr binary already in target/release as it is
#
# The input is generated once per (rows, seed) and cached as bench/out/jcl-<rows>-s<seed>.psv.
# Each run's outputs go to bench/out/w1-<rows>/<impl>/ (the last round's are kept), its /usr/bin/time
# report and console output to bench/out/w1-<rows>/logs/, and one TSV row per run is appended to
# bench/out/w1-<rows>/runs.tsv. Exit status: 0 when every run succeeded and every compared output
# is SAME as the reference (polars, or duckdb when polars is not run); 1 otherwise (a run that exits 0
# but writes no summary.json is recorded with exit 99); 2 on bad usage.
set -euo pipefail

die() { echo "w1.sh: error: $*" >&2; exit 1; }
usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
bad_usage() { echo "w1.sh: $*" >&2; echo >&2; usage >&2; exit 2; }
say() { echo "w1.sh: $*" >&2; }

rows=1000000
rounds=5
seed=7
impls_arg="etr-jit etr-interp polars duckdb"
etr_args=""
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rows|--rounds|--seed|--impls|--etr-args)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      case "$1" in
        --rows) rows="$2" ;;
        --rounds) rounds="$2" ;;
        --seed) seed="$2" ;;
        --impls) impls_arg="$2" ;;
        --etr-args) etr_args="$2" ;;
      esac
      shift 2 ;;
    --rows=*) rows="${1#*=}"; shift ;;
    --rounds=*) rounds="${1#*=}"; shift ;;
    --seed=*) seed="${1#*=}"; shift ;;
    --impls=*) impls_arg="${1#*=}"; shift ;;
    --etr-args=*) etr_args="${1#*=}"; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad_usage "unknown argument '$1'" ;;
  esac
done
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || bad_usage "--rows must be a positive integer, not '$rows'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || bad_usage "--rounds must be a positive integer, not '$rounds'"
[[ "$seed" =~ ^[0-9]+$ ]] || bad_usage "--seed must be a non-negative integer, not '$seed'"
read -r -a impls <<< "$impls_arg"
[ ${#impls[@]} -gt 0 ] || bad_usage "--impls is empty"
read -r -a etr_extra <<< "$etr_args"

# ---- where things are ---------------------------------------------------------------------------
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/.." && pwd))"
shared="${ETR_SHARED:-$root/../shared}"
[ -d "$shared/bench" ] || die "no shared bench folder at $shared/bench (set ETR_SHARED=/path/to/shared)"
shared="$(cd "$shared" && pwd)"
gen="$shared/bench/gen_jcl.py"
compare="$shared/bench/compare_outputs.py"
[ -f "$gen" ] || die "missing $gen"
[ -f "$compare" ] || die "missing $compare"

is_etr() { case "$1" in etr|etr-jit|etr-interp) return 0 ;; *) return 1 ;; esac; }

seen=" "
for impl in "${impls[@]}"; do
  case "$seen" in *" $impl "*) bad_usage "--impls names '$impl' twice" ;; esac
  seen+="$impl "
  if ! is_etr "$impl" && [ ! -f "$shared/bench/w1_$impl.py" ]; then
    bad_usage "unknown implementation '$impl' (no $shared/bench/w1_$impl.py)"
  fi
done

out_root="$here/out"
run_dir="$out_root/w1-$rows"
logs="$run_dir/logs"
input="$out_root/jcl-$rows-s$seed.psv"
mkdir -p "$logs"

# ---- tools --------------------------------------------------------------------------------------
"$here/setup-venv.sh" >&2 || die "bench/setup-venv.sh failed: the generator, the baselines and compare_outputs.py need its venv"
py="$here/.venv/bin/python"

if [ ! -x /usr/bin/time ]; then
  say "/usr/bin/time is missing: installing the 'time' package with apt-get"
  command -v apt-get >/dev/null 2>&1 || die "/usr/bin/time is missing and there is no apt-get: install GNU time"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get install -y time >&2 \
    || { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y time >&2; } \
    || die "could not install 'time' (apt-get install -y time)"
  [ -x /usr/bin/time ] || die "the 'time' package installed but /usr/bin/time is still missing"
fi

# ---- the input, cached by rows and seed ---------------------------------------------------------
if [ -s "$input" ] && [ -s "$input.labels.tsv" ]; then
  say "using the cached input $input"
else
  say "generating $rows lines with seed $seed into $input"
  tmp="$out_root/.gen-$rows-s$seed-$$.psv"
  trap 'rm -f "$tmp" "$tmp.labels.tsv"' EXIT
  "$py" "$gen" --rows "$rows" --seed "$seed" --out "$tmp" || die "gen_jcl.py failed"
  mv "$tmp.labels.tsv" "$input.labels.tsv"
  mv "$tmp" "$input"
  trap - EXIT
fi

# ---- etr ------------------------------------------------------------------------------------------
failed=()
etr_bin=""
etr_commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo none)"
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then etr_commit+="-dirty"; fi
built=0
for impl in "${impls[@]}"; do
  is_etr "$impl" && [ "$built" -eq 0 ] || continue
  built=1
  spec="$root/contributors/jcl.etr"
  [ -f "$spec" ] || die "no spec at $spec (run without etr: --impls \"polars duckdb\")"
  etr_bin="${CARGO_TARGET_DIR:-$root/target}/release/etr"
  case "$etr_bin" in /*) ;; *) etr_bin="$root/$etr_bin" ;; esac
  if [ "$build" -eq 1 ]; then
    say "building etr: cargo build --release -p etr-cli"
    (cd "$root" && cargo build --release -p etr-cli >&2) \
      || die "cargo build --release -p etr-cli failed (bench the last binary with --no-build, or the baselines alone with --impls \"polars duckdb\")"
    [ -x "$etr_bin" ] || die "the build succeeded but there is no $etr_bin"
  else
    [ -x "$etr_bin" ] || die "--no-build, but there is no $etr_bin"
    say "--no-build: using $etr_bin as it is (built $(date -r "$etr_bin" '+%F %T'))"
    etr_commit+="-nobuild"
  fi
done

cpu_jiffies() { # busy and total clock ticks of all cores so far, from /proc/stat
  awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit}' /proc/stat
}

is_failed() { case " ${failed[*]-} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

command_for() { # impl outdir -> fills the array cmd
  if is_etr "$1"; then
    cmd=("$etr_bin" run "$root/contributors/jcl.etr" "$input" --out "$2" --quiet ${etr_extra[@]+"${etr_extra[@]}"})
    case "$1" in
      etr-jit) cmd+=(--engine jit) ;;
      etr-interp) cmd+=(--engine interp) ;;
    esac
  else
    cmd=("$py" "$shared/bench/w1_$1.py" "$input" "$2")
  fi
}

# ---- the runs -------------------------------------------------------------------------------------
tsv="$run_dir/runs.tsv"
header=$'run_id\trows\tseed\timpl\tround\twall_s\tmax_rss_kb\tcpu_percent\texit\tload1_before\tload1_after\tother_cpu_pct\tcommit\tetr_args'
if [ -f "$tsv" ] && [ "$(head -n 1 "$tsv")" != "$header" ]; then
  say "runs.tsv has another layout: moving it to runs.tsv.old"
  mv "$tsv" "$tsv.old"
fi
[ -f "$tsv" ] || printf '%s\n' "$header" > "$tsv"
run_id="$(date -u +%Y%m%dT%H%M%SZ)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
cores="$(nproc)"

cat "$input" > /dev/null   # warm the page cache so that the first run is not the only cold one
say "run $run_id: ${#impls[@]} implementation(s) x $rounds round(s) on $input"
for ((r = 1; r <= rounds; r++)); do
  live=()   # the order rotates by one every round, over the implementations that have not failed
  for impl in "${impls[@]}"; do is_failed "$impl" || live+=("$impl"); done
  n=${#live[@]}
  for ((k = 0; k < n; k++)); do
    impl="${live[$(( (k + r - 1) % n ))]}"
    out="$run_dir/$impl"
    rm -rf "$out"
    command_for "$impl" "$out"
    timef="$logs/time_${impl}_$r.txt"
    logf="$logs/output_${impl}_$r.txt"
    l0="$(cut -d' ' -f1 /proc/loadavg)"
    j0="$(cpu_jiffies)"
    rc=0
    t0="$EPOCHREALTIME"
    /usr/bin/time -v -o "$timef" "${cmd[@]}" > "$logf" 2>&1 || rc=$?
    t1="$EPOCHREALTIME"
    j1="$(cpu_jiffies)"
    l1="$(cut -d' ' -f1 /proc/loadavg)"
    # wall from bash's clock (microseconds; /usr/bin/time's own figure is rounded to 10 ms)
    wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')"
    rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$timef")"
    cpu="$(awk -F': ' '/Percent of CPU/ {sub(/%/, "", $2); print $2}' "$timef")"
    own="$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ {s += $2} END {print s + 0}' "$timef")"
    # CPU that other processes used while this one ran, in % of all cores: every busy tick of the
    # machine minus this process's own user + system time (ticks are 10 ms, so +-10 % on 0.1 s runs)
    other="$(awk -v a="$j0" -v b="$j1" -v own="$own" -v w="$wall" -v hz="$(getconf CLK_TCK)" -v cores="$cores" 'BEGIN {
      split(a, x, " "); split(b, y, " "); o = (y[1] - x[1]) / hz - own
      if (o < 0) o = 0
      printf "%.0f", (w > 0) ? 100 * o / (w * cores) : 0 }')"
    if [ "$rc" -eq 0 ] && [ ! -f "$out/summary.json" ]; then
      say "$impl exited 0 but wrote no $out/summary.json"
      rc=99
    fi
    printf '%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$run_id" "$rows" "$seed" "$impl" "$r" \
      "${wall:-NA}" "${rss:-NA}" "${cpu:-NA}" "$rc" "$l0" "$l1" "$other" "$etr_commit" \
      "$(if is_etr "$impl"; then echo "$etr_args"; fi)" >> "$tsv"
    printf 'w1.sh: round %d/%d  %-8s wall %6ss  peak RSS %8s kB  exit %d\n' "$r" "$rounds" "$impl" \
      "${wall:-?}" "${rss:-?}" "$rc" >&2
    if [ "$rc" -ne 0 ]; then
      say "$impl failed (exit $rc); it is skipped from now on. Last lines of $logf:"
      if [ -s "$logf" ]; then tail -n 15 "$logf" | sed 's/^/    /' >&2; else echo "    (it printed nothing)" >&2; fi
      failed+=("$impl")
    fi
  done
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the table ------------------------------------------------------------------------------------
echo
"$py" - "$tsv" "$run_id" "$load_start" "$load_end" "$cores" "$input" "$rounds" "${impls[@]}" <<'PY'
import csv, os, statistics, sys

tsv, run_id, load_start, load_end, cores, input_path, rounds, *impls = sys.argv[1:]
runs = [r for r in csv.DictReader(open(tsv), delimiter="\t") if r["run_id"] == run_id]
rows, seed = runs[0]["rows"], runs[0]["seed"]

def stats(impl):
    ok = [r for r in runs if r["impl"] == impl and r["exit"] == "0" and r["wall_s"] != "NA"]
    if not ok:
        return None
    wall = [float(r["wall_s"]) for r in ok]
    rss = [int(r["max_rss_kb"]) / 1024 for r in ok]
    cpu = [float(r["cpu_percent"]) for r in ok if r["cpu_percent"] not in ("", "NA", "?")]
    load = [float(r["other_cpu_pct"]) for r in ok]
    return dict(n=len(ok), wall=statistics.median(wall), wmin=min(wall), wmax=max(wall),
                rss=statistics.median(rss), cpu=statistics.median(cpu) if cpu else float("nan"),
                load=statistics.median(load))

size_mb = os.path.getsize(input_path) / 1e6
print(f"### W1, {int(rows):,} data lines (seed {seed}, {size_mb:.0f} MB), {rounds} round(s), run {run_id}, {cores} cores")
print()
print("| implementation | ok runs | median wall (s) | min wall (s) | max wall (s) | median peak RSS (MiB) | median CPU % | median other CPU % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
st = {}
for impl in impls:
    s = st[impl] = stats(impl)
    if s is None:
        print(f"| {impl} | 0 | failed | | | | | |")
    else:
        print(f"| {impl} | {s['n']} | {s['wall']:.2f} | {s['wmin']:.2f} | {s['wmax']:.2f} | {s['rss']:.0f} "
              f"| {s['cpu']:.0f} | {s['load']:.0f} |")
print()
etrs = [i for i in impls if i in ("etr", "etr-jit", "etr-interp")]
if etrs:
    print("| ratio (median) | wall | peak RSS |")
    print("|---|---:|---:|")
    for name in etrs:
        for base in ("polars", "duckdb"):
            e, b = st.get(name), st.get(base)
            if base not in impls:
                print(f"| {name} / {base} | not run | not run |")
            elif e is None or b is None:
                print(f"| {name} / {base} | n/a (a run failed) | n/a |")
            else:
                print(f"| {name} / {base} | {e['wall'] / b['wall']:.3f} | {e['rss'] / b['rss']:.3f} |")
        peers = [st.get(b) for b in ("polars", "duckdb") if b in impls and st.get(b)]
        if st.get(name) and len(peers) == 2:
            fastest = min(p["wall"] for p in peers)
            smallest = min(p["rss"] for p in peers)
            print(f"| {name}: speed-up over the faster peer, memory share of the smaller | "
                  f"{fastest / st[name]['wall']:.2f}x | {st[name]['rss'] / smallest:.3f} |")
    print()
else:
    print("(etr was not run: no etr/polars, etr/duckdb ratios)")
    print()
print(f"load average (1, 5, 15 min): {load_start} at the start, {load_end} at the end")
busy = sorted(int(r["other_cpu_pct"]) for r in runs)
print(f"CPU used by other processes during the runs (% of all {cores} cores): median {statistics.median(busy):.0f}, "
      f"max {busy[-1]}")
if statistics.median(busy) >= 10:
    print("note: something else was using the CPU during this bench, so these figures are noisy; "
          "compare only figures from the same table, or run again on a quiet machine")
PY

# ---- do the outputs agree? ------------------------------------------------------------------------
echo
ref=""
for cand in polars duckdb; do
  case " ${impls[*]} " in *" $cand "*) ref="$cand"; break ;; esac
done
verdict_failed=0
if [ -z "$ref" ]; then
  echo "compare: skipped (neither polars nor duckdb ran, so there is no reference output)"
elif is_failed "$ref"; then
  echo "compare: skipped (the reference, $ref, failed)"
  verdict_failed=1
else
  for impl in "${impls[@]}"; do
    [ "$impl" = "$ref" ] && continue
    if is_failed "$impl"; then echo "compare $impl: skipped ($impl failed)"; continue; fi
    rc=0
    "$py" "$compare" "$run_dir/$ref" "$run_dir/$impl" || rc=$?
    [ "$rc" -eq 0 ] || verdict_failed=1
  done
fi

echo
echo "raw runs: $tsv (run_id $run_id); logs: $logs"
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED runs: ${failed[*]}"
  exit 1
fi
if [ "$verdict_failed" -ne 0 ]; then
  say "outputs differ from the reference ($ref)"
  exit 1
fi
