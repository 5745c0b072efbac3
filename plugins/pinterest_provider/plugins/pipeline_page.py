"""The pipeline page inside the Airflow UI: a FastAPI app the API server mounts at ``/pinterest`` and two external
views (a navigation entry, a tab on the DAG's page) that show it in the UI.

For one run of ``pinterest_pipeline`` (the latest with a published summary, or ``?run_id=``) it shows the run's
reconciliation (the ``verification.publish_summary`` XCom, read through Airflow's models and session) and the nine
answers of the gold tables (delta-rs through the lake's S3 API), rendered by ``include.pinterest.report``.

A mounted app inherits no authentication: every route depends on Airflow's own ``requires_access_dag``, so a caller
needs a valid Airflow token (the UI's ``_token`` cookie or a bearer header) with read access to the DAG's runs and
XComs. Every Airflow component imports this module when it loads plugins (a worker once per task), so its top
level imports nothing but the plugin base: the app and its imports are built on first use, in the API server.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name dependencies imported
# inside create_app() (only the API server imports them), so they must be evaluated where the routes are defined.
from functools import cached_property
from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

DAG_ID = "pinterest_pipeline"
SUMMARY_TASK_ID = "verification.publish_summary"
URL_PREFIX = "/pinterest"
RECENT_RUNS = 25
GOLD_NOTE = (
    "The gold tables as they are now: the latest written, by whichever run's batch finished last. Each batch "
    "rewrites them whole, so they are not kept per run; the reconciliation above is the chosen run's own."
)


def create_app():
    """The pipeline page's FastAPI app; each route requires read access to the DAG's runs and XComs."""
    from html import escape
    from urllib.parse import quote

    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.common.db.common import SessionDep
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from fastapi import Depends, FastAPI, HTTPException, Query
    from fastapi.responses import HTMLResponse

    readers = [
        Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=DAG_ID)),
        Depends(requires_access_dag("GET", DagAccessEntity.XCOM, param_dag_id=DAG_ID)),
    ]
    app = FastAPI(title="Pinterest pipeline page", dependencies=readers, docs_url=None, redoc_url=None)

    def chosen(session, run_id: str | None) -> dict[str, Any]:
        view = pipeline_view(session, run_id)
        if run_id and view["run"] is None:
            raise HTTPException(404, f"{DAG_ID} has no run {run_id!r}")
        return view

    @app.get("/api/run")
    def run_json(session: SessionDep, run_id: str | None = Query(None)) -> dict[str, Any]:
        """The run shown by the page, its summary and the recent runs, as JSON."""
        return chosen(session, run_id)

    @app.get("/", response_class=HTMLResponse)
    def page(session: SessionDep, run_id: str | None = Query(None), dag_id: str | None = Query(None)) -> str:
        """The page: run picker, the run's reconciliation, the nine answers. ``dag_id`` is the DAG whose tab
        shows it (the UI offers the tab on every DAG's page)."""
        if dag_id not in (None, DAG_ID):
            return f"<p>This page describes {DAG_ID}; {escape(dag_id)} is another DAG.</p>"
        return render_page(chosen(session, run_id), gold_rows())

    @app.get("/api/lineage")
    def lineage_json(session: SessionDep, run_id: str | None = Query(None)) -> dict[str, Any]:
        """The run's task-level lineage graph (nodes and edges) from the OpenLineage event files."""
        graph = run_lineage(chosen(session, run_id)["run"])
        return graph.as_dict() if not isinstance(graph, str) else {"unavailable": graph}

    @app.get("/lineage", response_class=HTMLResponse)
    def lineage_page(session: SessionDep, run_id: str | None = Query(None)) -> str:
        """The run's lineage drawn: topics -> bronze -> silver -> gold, streams -> stream tables, and the tasks."""
        from include.pinterest.lineage import render_lineage

        run = chosen(session, run_id)["run"]
        graph = run_lineage(run)
        body = render_lineage(graph) if not isinstance(graph, str) else f"<p>{escape(graph)}</p>"
        title = f"Lineage of {escape(run['run_id'])}" if run else f"{DAG_ID} has no runs yet"
        back = f'<a href="./?run_id={escape(quote(run["run_id"], safe=""))}">The run\'s page</a>' if run else ""
        return f'<div style="font-family:system-ui,sans-serif"><h2>{title}</h2><p>{back}</p>{body}</div>'

    return app


def run_lineage(run: dict[str, Any] | None):
    """The task-level lineage graph of ``run`` from the local OpenLineage file transport's events (those written
    while it ran), or why there is none: on MWAA the events go to the configured transport, not to files here."""
    import os
    from datetime import datetime
    from pathlib import Path

    from include.pinterest.lineage import lineage_graph, read_events, task_level

    folder = os.environ.get("PINTEREST_LINEAGE_DIR")
    if not folder or not Path(folder).is_dir():
        return "No local OpenLineage event files here: the events go to the configured transport ([openlineage])."
    if run is None or not run["start_date"]:
        return "The run has not started."
    since = datetime.fromisoformat(run["start_date"])
    until = datetime.fromisoformat(run["end_date"]) if run["end_date"] else None
    return task_level(lineage_graph(read_events(Path(folder), since=since, until=until)))


def _run_fields(run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "state": str(run.state),
        "run_type": str(run.run_type),
        "start_date": run.start_date.isoformat() if run.start_date else None,
        "end_date": run.end_date.isoformat() if run.end_date else None,
    }


def pipeline_view(session, run_id: str | None = None) -> dict[str, Any]:
    """The run to show (``run_id``, else the latest run with a published summary, else the latest run), its
    summary (None until ``publish_summary`` ran) and the recent runs, read from Airflow's metadata database."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XCOM_RETURN_KEY, XComModel
    from sqlalchemy import select

    recent = session.scalars(
        select(DagRun).where(DagRun.dag_id == DAG_ID).order_by(DagRun.run_after.desc()).limit(RECENT_RUNS)
    ).all()
    summarized = set(
        session.scalars(
            select(XComModel.run_id).where(
                XComModel.dag_id == DAG_ID,
                XComModel.task_id == SUMMARY_TASK_ID,
                XComModel.key == XCOM_RETURN_KEY,
                XComModel.run_id.in_([r.run_id for r in recent]),
            )
        )
    )
    if run_id is None:
        run_id = next((r.run_id for r in recent if r.run_id in summarized), recent[0].run_id if recent else None)
    run = session.scalar(select(DagRun).where(DagRun.dag_id == DAG_ID, DagRun.run_id == run_id)) if run_id else None
    summary = None
    if run is not None:
        found = session.scalars(
            XComModel.get_many(
                run_id=run.run_id, key=XCOM_RETURN_KEY, task_ids=SUMMARY_TASK_ID, dag_ids=DAG_ID, limit=1
            )
        ).first()
        summary = XComModel.deserialize_value(found) if found is not None else None
    return {
        "dag_id": DAG_ID,
        "run": _run_fields(run) if run is not None else None,
        "summary": summary,
        "runs": [{**_run_fields(r), "has_summary": r.run_id in summarized} for r in recent],
    }


def gold_rows() -> dict[str, list[dict]] | str:
    """The gold tables from the lake, or why they could not be read (the page still shows the run)."""
    from include.pinterest.lake import Lake
    from include.pinterest.report import read_gold
    from include.pinterest.settings import Settings
    from include.pinterest.verification import delta_storage_options

    settings = Settings()
    try:
        return read_gold(Lake.of(settings, "delta-rs"), delta_storage_options(settings))
    except Exception as error:  # the page is for looking: an unreachable lake is shown, not a 500
        return f"the gold tables could not be read: {error}"


def _when(moment: str | None) -> str:
    """An ISO timestamp of Airflow's (UTC) as people read it: to the second, with its zone."""
    from datetime import datetime

    return f"{datetime.fromisoformat(moment):%Y-%m-%d %H:%M:%S %Z}" if moment else "—"


def render_page(view: dict[str, Any], gold: dict[str, list[dict]] | str) -> str:
    """The report page with the run picker above it."""
    from html import escape
    from urllib.parse import quote

    from include.pinterest.report import render_report

    run = view["run"]
    options = "".join(
        f'<option value="{escape(r["run_id"])}"{" selected" if run and r["run_id"] == run["run_id"] else ""}>'
        f"{escape(r['run_id'])} ({escape(r['state'])}{'' if r['has_summary'] else ', no summary'})</option>"
        for r in view["runs"]
    )
    picker = (
        f'<form method="get" style="font-family:system-ui,sans-serif">Run of <b>{escape(view["dag_id"])}</b>: '
        f'<select name="run_id">{options}</select> <button type="submit">Show</button></form>'
    )
    if run is None:
        status = f"<p>{escape(view['dag_id'])} has no runs yet.</p>"
    else:
        status = (
            f'<p style="font-family:system-ui,sans-serif">Run <b>{escape(run["run_id"])}</b>: {escape(run["state"])}, '
            f"started {_when(run['start_date'])}, ended {_when(run['end_date'])}. "
            f'<a href="lineage?run_id={escape(quote(run["run_id"], safe=""))}">Its lineage</a>.'
            + ("" if view["summary"] else " No summary yet: `verification.publish_summary` has not run.")
            + "</p>"
        )
    if isinstance(gold, str):
        status += f'<p style="font-family:system-ui,sans-serif;color:#b00020">{escape(gold)}</p>'
        gold = {}
    return render_report(
        gold, view["summary"], title="Pinterest pipeline", header=picker + status, answers_note=GOLD_NOTE
    )


class PipelinePagePlugin(AirflowPlugin):
    """Registers the page's app and its two places in the UI (iframes of the same origin: the UI's login cookie
    goes along)."""

    name = "pinterest_pipeline_page"
    external_views: ClassVar[list[dict[str, str]]] = [
        {
            "name": "Pinterest pipeline",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "pinterest-pipeline",
        },
        {
            "name": "Pipeline page",
            "href": f"{URL_PREFIX}/?dag_id={{DAG_ID}}",
            "destination": "dag",
            "url_route": "pinterest-pipeline-dag",
        },
    ]

    @cached_property
    def fastapi_apps(self) -> list[dict[str, Any]]:
        """Built when the API server mounts it, not when other components load plugins."""
        return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Pinterest pipeline page"}]
