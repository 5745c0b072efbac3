"""The lineage reader: event files as the two file transports write them -> nodes, edges, parents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from include.pinterest.lineage import dataset_id, job_id, lineage_graph, read_events

TOPIC = {"namespace": "kafka://localhost:9092", "name": "pinterest.pin"}
BRONZE = {"namespace": "s3://lake", "name": "topics/pinterest.pin"}
SILVER = {"namespace": "s3://lake", "name": "silver/pin"}


def _event(job: str, time: str, inputs=(), outputs=(), event_type="COMPLETE", parent: str | None = None) -> dict:
    facets = {"parent": {"job": {"namespace": "pinterest", "name": parent}, "run": {"runId": "r0"}}} if parent else {}
    return {
        "eventType": event_type,
        "eventTime": time,
        "job": {"namespace": "pinterest", "name": job},
        "run": {"runId": f"run-{job}", "facets": facets},
        "inputs": list(inputs),
        "outputs": list(outputs),
    }


def _write(folder, name: str, *events: dict) -> None:
    (folder / name).write_text("".join(json.dumps(e) + "\n" for e in events))


def test_airflow_and_spark_files_make_one_connected_graph(tmp_path):
    _write(tmp_path, "airflow-1.json", _event("dag.connector", "2026-11-20T10:00:00Z", [TOPIC], [BRONZE]))
    _write(tmp_path, "airflow-2.json", _event("dag.clean", "2026-11-20T10:01:00Z", event_type="START"))
    _write(
        tmp_path,
        "spark-clean.jsonl",
        _event("clean.merge", "2026-11-20T10:01:30Z", [BRONZE], [SILVER], "START", parent="dag.clean"),
        _event("clean.merge", "2026-11-20T10:02:00Z", [BRONZE], [SILVER], parent="dag.clean"),
    )
    (tmp_path / "not-lineage.txt").write_text("ignored")

    graph = lineage_graph(read_events(tmp_path))

    topic, bronze, silver = (dataset_id(d["namespace"], d["name"]) for d in (TOPIC, BRONZE, SILVER))
    assert (topic, bronze, silver) == (
        "kafka://localhost:9092/pinterest.pin",
        "s3://lake/topics/pinterest.pin",
        "s3://lake/silver/pin",
    )
    assert graph.connects(topic, bronze, silver)
    assert not graph.connects(silver, topic)
    assert graph.parents == {job_id("pinterest", "clean.merge"): job_id("pinterest", "dag.clean")}
    assert graph.ancestors(job_id("pinterest", "clean.merge")) == [job_id("pinterest", "dag.clean")]
    assert graph.states[job_id("pinterest", "clean.merge")] == "COMPLETE"  # the latest event wins
    drawn = graph.as_dict()
    assert {"from": job_id("pinterest", "dag.connector"), "to": bronze} in drawn["edges"]
    assert {n["kind"] for n in drawn["nodes"]} == {"dataset", "job"}


def test_events_before_since_and_events_without_a_run_are_left_out(tmp_path):
    dataset_event = {"eventTime": "2026-11-20T10:05:00Z", "dataset": SILVER}
    _write(tmp_path, "airflow-1.json", _event("old", "2026-11-19T00:00:00Z", [TOPIC], [BRONZE]))
    _write(tmp_path, "airflow-2.json", _event("new", "2026-11-20T10:00:00.123456+00:00", [BRONZE], [SILVER]))
    _write(tmp_path, "airflow-3.json", dataset_event)

    events = read_events(tmp_path, since=datetime(2026, 11, 20, tzinfo=UTC))

    assert [e["job"]["name"] for e in events] == ["new"]


GOLD = {"namespace": "s3://lake", "name": "gold/category_by_country"}


def test_the_task_level_drawing_shows_the_tasks_in_pipeline_order(tmp_path):
    from include.pinterest.lineage import layers, render_lineage, task_level

    _write(tmp_path, "airflow-1.json", _event("dag.connector", "2026-11-20T10:00:00Z", [TOPIC], [BRONZE]))
    _write(tmp_path, "airflow-2.json", _event("dag.clean", "2026-11-20T10:02:00Z", [BRONZE, SILVER], [SILVER]))
    _write(tmp_path, "airflow-3.json", _event("dag.analyse", "2026-11-20T10:03:00Z", [SILVER], [GOLD], "FAIL"))
    _write(
        tmp_path,
        "spark-clean.jsonl",
        _event(
            "clean.scan",
            "2026-11-20T10:01:30Z",
            [BRONZE],
            [{"namespace": "s3://lake", "name": "tmp/x"}],
            parent="dag.clean",
        ),
    )
    graph = task_level(lineage_graph(read_events(tmp_path)))
    assert job_id("pinterest", "clean.scan") not in graph.nodes and dataset_id("s3://lake", "tmp/x") not in graph.nodes
    level = layers(graph)
    order = [dataset_id(**TOPIC), job_id("pinterest", "dag.connector"), dataset_id(**BRONZE)]
    order += [
        job_id("pinterest", "dag.clean"),
        dataset_id(**SILVER),
        job_id("pinterest", "dag.analyse"),
        dataset_id(**GOLD),
    ]
    assert [level[n] for n in order] == sorted(level[n] for n in order)  # left to right, the silver loop ignored
    assert level[dataset_id(**TOPIC)] < level[dataset_id(**GOLD)]
    drawing = render_lineage(graph)
    assert drawing.count('class="lineage-job"') == 3 and drawing.count('class="lineage-dataset"') == 4
    assert drawing.count("<line ") == len(graph.edges)
    assert "#c62828" in drawing  # the failed task is drawn in the failure colour


def test_no_events_draw_a_sentence_not_an_empty_picture():
    from include.pinterest.lineage import LineageGraph, render_lineage

    assert render_lineage(LineageGraph()) == "<p>No lineage events for this run.</p>"
