#!/usr/bin/env python3
"""The Python peer of `etr ingest` for bench/month.sh: a month of contributor files, each run by the
W1 Polars script (../shared/bench/w1_polars.py, in process: no interpreter start per file) and its
accepted records appended to an Iceberg table with pyiceberg (SQL catalog on SQLite, local
warehouse), one commit per file, as a hand-written pipeline around the same tools would.

    month_peer.py FILES_DIR WORK_DIR

FILES_DIR holds one folder per contributor with its files; WORK_DIR is created (must not exist).
Prints one JSON line: files, records appended, seconds.
"""
import json
import os
import sys
import time
import runpy

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog

W1_POLARS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench", "w1_polars.py")


def run_w1(src, out):
    saved = sys.argv
    sys.argv = ["w1_polars.py", src, out]
    try:
        # The script's own `main`, with its argv: prints its summary line, which we silence.
        stdout = sys.stdout
        sys.stdout = open(os.devnull, "w")
        try:
            runpy.run_path(W1_POLARS, run_name="__main__")
        finally:
            sys.stdout.close()
            sys.stdout = stdout
    finally:
        sys.argv = saved


def main():
    files_dir, work = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(work)
    catalog = SqlCatalog("peer", uri=f"sqlite:///{work}/catalog.db", warehouse=f"file://{work}/warehouse")
    catalog.create_namespace("peer")
    table = None
    started = time.perf_counter()
    files = appended = 0
    for contributor in sorted(os.listdir(files_dir)):
        if not os.path.isdir(os.path.join(files_dir, contributor)):
            continue
        for name in sorted(os.listdir(os.path.join(files_dir, contributor))):
            src = os.path.join(files_dir, contributor, name)
            out = os.path.join(work, "runs", contributor, name)
            run_w1(src, out)
            accepted = os.path.join(out, "accepted.parquet")
            if not os.path.exists(accepted):
                continue
            data = pq.read_table(accepted)
            data = data.append_column("contributor", pa.array([contributor] * data.num_rows, pa.string()))
            if table is None:
                table = catalog.create_table("peer.records", schema=data.schema)
            table.append(data)
            files += 1
            appended += data.num_rows
    print(json.dumps({"files": files, "records": appended, "seconds": round(time.perf_counter() - started, 3)}))


if __name__ == "__main__":
    main()
