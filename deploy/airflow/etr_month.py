"""Airflow DAG: each contributor's monthly file through `etr ingest`, one task per contributor.

`etr ingest` takes a file through the whole platform (archive, run ledger, engine, lake) and exits
with a status that tells an orchestrator what to do (docs/platform.md, "Exit codes"):

    0  published, a duplicate of a published file, or superseded by a newer one: done
    2  usage or configuration (etr.yaml does not load): fail, do not retry, fix the deployment
    3  the file was refused at the door (missing, unreadable, a name the contributor does not send,
       empty): fail, do not retry, ask the contributor
    4  the file was refused by its spec (fatal: bad trailer, refused encoding): fail, do not retry,
       the contributor must send a corrected file
    5  internal (ledger, lake or disk): retry (Airflow's retries, with backoff)

Set the Airflow Variables `etr_bin` (path of the etr binary), `etr_workspace` (the folder of
etr.yaml) and `etr_incoming` (where each contributor's files are, one folder per contributor),
and list the contributors in CONTRIBUTORS with their file-name pattern for `ds`.
"""
from __future__ import annotations

import subprocess
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.models import Variable
from airflow.operators.python import PythonOperator

# contributor -> the file's name for the reporting month (Jinja-free: formatted in the task)
CONTRIBUTORS = {
    "JCL": "JCL_{yyyymm}.psv",
}

NO_RETRY = {2: "configuration", 3: "input refused", 4: "fatal file"}


def ingest(contributor: str, pattern: str, ds: str, **_context) -> None:
    yyyymm = ds[:4] + ds[5:7]
    path = f"{Variable.get('etr_incoming')}/{contributor}/{pattern.format(yyyymm=yyyymm)}"
    command = [
        Variable.get("etr_bin"),
        "ingest",
        "--workspace",
        Variable.get("etr_workspace"),
        "--contributor",
        contributor,
        "--engine",
        "jit",
        path,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    print(done.stdout)
    print(done.stderr)
    if done.returncode == 0:
        return
    reason = NO_RETRY.get(done.returncode)
    if reason is not None:
        raise AirflowFailException(f"etr ingest: {reason} (exit {done.returncode}) for {path}")
    raise AirflowException(f"etr ingest: internal failure (exit {done.returncode}) for {path}; retrying")


with DAG(
    dag_id="etr_month",
    description="Contributors' monthly files through etr: archive, ledger, engine, lake",
    schedule="@monthly",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True},
    tags=["etr", "credit-bureau"],
) as dag:
    for contributor, pattern in CONTRIBUTORS.items():
        PythonOperator(
            task_id=f"ingest_{contributor}",
            python_callable=ingest,
            op_kwargs={"contributor": contributor, "pattern": pattern},
        )
