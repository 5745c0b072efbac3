"""DAG integrity, in the Astronomer template's shape, extended.

Every file in dags/ imports without error while the network, the metadata database, Variables and
connections are blocked (so a parse-time lookup fails loudly here instead of slowing MWAA's DAG
processor), within a generous parse budget; every DAG has tags, an owner, retries and catchup off.
"""

from __future__ import annotations

import runpy
import socket
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((REPO / "dags").glob("*.py"))
PARSE_BUDGET_S = 10.0


class ParseTimeAccess(AssertionError):
    """A DAG file touched the network, the database, a Variable or a connection while being parsed."""


@pytest.fixture
def blocked_parse_time_access(monkeypatch):
    def refuse(what):
        def _refuse(*args, **kwargs):
            raise ParseTimeAccess(f"{what} at DAG parse time: {args[:2]}")

        return _refuse

    monkeypatch.setattr(socket.socket, "connect", refuse("network connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("network connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("network connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("DNS lookup"))
    from airflow.sdk import BaseHook, Variable
    from airflow.settings import Session

    monkeypatch.setattr(Variable, "get", refuse("Variable.get"))
    monkeypatch.setattr(BaseHook, "get_connection", refuse("connection lookup"))
    monkeypatch.setattr(Session, "__call__", refuse("metadata database session"), raising=False)
    import sqlalchemy.engine

    monkeypatch.setattr(sqlalchemy.engine.Engine, "connect", refuse("database connection"))


def _import_dag_file(path: Path):
    """Execute the file as the DAG processor does: by path, not as a module of a package."""
    return runpy.run_path(str(path), run_name=f"dagfile_{path.stem}")


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_file_imports_without_parse_time_access(path, blocked_parse_time_access):
    import airflow.sdk  # noqa: F401  (warm the SDK import so the budget measures the file, not Airflow)

    started = time.perf_counter()
    _import_dag_file(path)
    elapsed = time.perf_counter() - started
    assert elapsed < PARSE_BUDGET_S, f"{path.name} took {elapsed:.1f}s to parse (budget {PARSE_BUDGET_S}s)"


def _dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_the_dag_bag_has_no_import_errors():
    bag = _dag_bag()
    assert bag.import_errors == {}
    assert "pinterest_pipeline" in bag.dags


def _all_dags():
    return list(_dag_bag().dags.values())


@pytest.mark.parametrize("dag", _all_dags(), ids=lambda d: d.dag_id)
def test_dag_properties(dag):
    assert dag.tags, f"{dag.dag_id} has no tags"
    assert dag.catchup is False, f"{dag.dag_id} must not catch up"
    assert dag.doc_md, f"{dag.dag_id} has no doc_md"
    for task in dag.tasks:
        assert task.owner and task.owner != "airflow", f"{dag.dag_id}.{task.task_id} has no owner"
        assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"


def test_every_sensor_has_a_timeout():
    from airflow.sdk import BaseSensorOperator

    for dag in _all_dags():
        for task in dag.tasks:
            if isinstance(task, BaseSensorOperator):
                assert task.timeout and task.timeout <= 6 * 3600, f"{task.task_id} needs a bounded timeout"


@pytest.mark.parametrize(
    "body",
    [
        "from airflow.sdk import Variable\nVariable.get('prefix')\n",
        "from airflow.sdk import BaseHook\nBaseHook.get_connection('pinterest_aws')\n",
        "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9/')\n",
    ],
    ids=["variable", "connection", "network"],
)
def test_the_blocker_catches_parse_time_access(tmp_path, body, blocked_parse_time_access):
    """The guard above must be able to fail: a file that looks things up at parse time is refused."""
    bad = tmp_path / "bad_dag.py"
    bad.write_text(body)
    with pytest.raises(Exception) as raised:
        _import_dag_file(bad)
    assert "parse time" in str(raised.value) or isinstance(raised.value.__cause__, ParseTimeAccess)
