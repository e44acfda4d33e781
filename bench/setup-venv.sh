#!/usr/bin/env bash
# Create bench/.venv with the Python packages the W1 baselines need (polars, duckdb, pandas, pyarrow,
# numpy) and the month benchmark's peer (pyiceberg), from PyPI with pip. Only the benches use it: the build and the tests never do.
#
#   bench/setup-venv.sh            # create it, or do nothing if it is already there and importable
#   bench/setup-venv.sh --force    # delete it and create it again
#
# PYTHON chooses the interpreter the venv is made from (default: python3, 3.10 or newer).
# The versions are pinned so that baseline figures taken on different days stay comparable;
# change them here, in one place, and say so beside any figures you publish.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"
packages=(
  "polars==2.1.0"
  "duckdb==2.0.1"
  "pandas==3.1.1"
  "pyarrow==26.0.1"
  "numpy==2.4.6"
  # the month benchmark's peer pipeline appends to Iceberg (bench/month_peer.py)
  "pyiceberg[sql-sqlite]==0.12.0"
)
modules="polars, duckdb, pandas, pyarrow, numpy, pyiceberg"

die() { echo "setup-venv: $*" >&2; exit 1; }

force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: bench/setup-venv.sh [--force])" ;;
esac

importable() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import $modules" >/dev/null 2>&1
}

if [ "$force" -eq 0 ] && importable; then
  echo "setup-venv: $venv is ready ($("$venv/bin/python" -c 'import polars, duckdb; print("polars", polars.__version__, "duckdb", duckdb.__version__)'))"
  exit 0
fi

command -v "$py" >/dev/null 2>&1 || die "no '$py' on PATH (set PYTHON=/path/to/python3)"
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "$("$py" --version 2>&1) is too old: the baselines need Python 3.10 or newer"

if [ -d "$venv" ]; then
  echo "setup-venv: removing the old $venv"
  rm -rf "$venv"
fi
echo "setup-venv: creating $venv with $("$py" --version 2>&1)"
"$py" -m venv "$venv" || die "'$py -m venv' failed (on Debian/Ubuntu: apt-get install -y python3-venv)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip \
  || die "could not upgrade pip in $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}" \
  || die "pip could not install ${packages[*]}"
importable || die "the packages installed but '$venv/bin/python -c \"import $modules\"' fails"
echo "setup-venv: ready: $("$venv/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
