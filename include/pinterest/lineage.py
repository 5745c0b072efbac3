"""OpenLineage events -> a lineage graph, for a reader (a UI page, a test) that has only the event files.

The file transports write JSON: Airflow's one event per file (``airflow-<time>.json``), the Spark listener one
event per line (``spark-<app>.jsonl``); both are read as JSON lines. Each run event adds a job node, an edge from
every input dataset to the job and from the job to every output dataset; a job whose run names a parent (a Spark
job under its Airflow task) points to it. Datasets are identified as OpenLineage identifies them, by namespace and
name (``kafka://host:port`` + topic, ``s3://bucket`` + key), so Airflow's declared datasets and Spark's observed
ones meet in one node. Pure Python: no Airflow, no Spark.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path


def dataset_id(namespace: str, name: str) -> str:
    """A dataset's URI in OpenLineage's naming (namespace, then name): ``s3://bucket/silver/pin``."""
    return f"{namespace.rstrip('/')}/{name.lstrip('/')}"


def job_id(namespace: str, name: str) -> str:
    return f"job:{namespace}/{name}"


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # "dataset" or "job"
    namespace: str
    name: str


@dataclass
class LineageGraph:
    """Dataset and job nodes; ``edges`` are (from, to) ids: dataset -> job (read), job -> dataset (written)."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    parents: dict[str, str] = field(default_factory=dict)  # job id -> the job id of its parent run
    states: dict[str, str] = field(default_factory=dict)  # job id -> the event type of its latest event

    def downstream(self, node: str) -> set[str]:
        """Every node reachable from ``node`` along the edges."""
        found, frontier = set(), [node]
        while frontier:
            current = frontier.pop()
            for source, target in self.edges:
                if source == current and target not in found:
                    found.add(target)
                    frontier.append(target)
        return found

    def ancestors(self, job: str) -> list[str]:
        """The parent runs' jobs of ``job``, nearest first (a Spark SQL run, its application, its Airflow task...)."""
        found = []
        while (job := self.parents.get(job)) and job not in found:
            found.append(job)
        return found

    def connects(self, *path: str) -> bool:
        """True when each node of ``path`` is reachable from the one before it."""
        return all(b in self.downstream(a) for a, b in pairwise(path))

    def as_dict(self) -> dict:
        """Plain data for JSON (a UI page draws it)."""
        return {
            "nodes": [
                {**vars(n), **({"state": self.states[n.id]} if n.id in self.states else {})}
                | ({"parent": self.parents[n.id]} if n.id in self.parents else {})
                for n in sorted(self.nodes.values(), key=lambda n: n.id)
            ],
            "edges": [{"from": a, "to": b} for a, b in sorted(self.edges)],
        }


def read_events(folder: Path, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """The run events under ``folder`` (oldest first), those at or after ``since`` and at or before ``until``
    (timezone-aware) when given."""
    events = []
    for path in sorted(folder.glob("*.json*")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            event = json.loads(line)
            if "run" not in event or "job" not in event:
                continue  # a dataset or job event: no run, no edges
            time = datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))
            if (since and time < since) or (until and time > until):
                continue
            events.append(event)
    return sorted(events, key=lambda e: e["eventTime"])


def lineage_graph(events: Iterable[dict]) -> LineageGraph:
    """The graph of ``events`` (run events, oldest first: a job's state is its latest event's type)."""
    graph = LineageGraph()
    for event in events:
        job = event["job"]
        job_node = Node(job_id(job["namespace"], job["name"]), "job", job["namespace"], job["name"])
        graph.nodes[job_node.id] = job_node
        graph.states[job_node.id] = event.get("eventType", "OTHER")
        for dataset in event.get("inputs") or ():
            graph.edges.add((_dataset_node(graph, dataset), job_node.id))
        for dataset in event.get("outputs") or ():
            graph.edges.add((job_node.id, _dataset_node(graph, dataset)))
        parent = (event["run"].get("facets") or {}).get("parent", {}).get("job")
        if parent and (parent["namespace"], parent["name"]) != (job["namespace"], job["name"]):
            graph.parents[job_node.id] = job_id(parent["namespace"], parent["name"])
    return graph


def _dataset_node(graph: LineageGraph, dataset: dict) -> str:
    node = Node(dataset_id(dataset["namespace"], dataset["name"]), "dataset", dataset["namespace"], dataset["name"])
    graph.nodes[node.id] = node
    return node.id


def task_level(graph: LineageGraph) -> LineageGraph:
    """The graph of the Airflow tasks alone: jobs with a parent run (the Spark runs under a task) are left out, and
    so are the datasets that only they touched, so a reader sees the pipeline's steps and what they move."""
    jobs = {n for n, node in graph.nodes.items() if node.kind == "job" and n not in graph.parents}
    edges = {(a, b) for a, b in graph.edges if a in jobs or b in jobs}
    kept = {n for edge in edges for n in edge}
    return LineageGraph(
        nodes={n: graph.nodes[n] for n in kept},
        edges=edges,
        states={n: s for n, s in graph.states.items() if n in kept},
    )


def layers(graph: LineageGraph) -> dict[str, int]:
    """Each node's column: the longest path to it from a node nothing feeds. A task that reads what it writes (a
    MERGE into its own target) is drawn after that dataset's other writers: its read edge is not followed."""
    edges = [(a, b) for a, b in graph.edges if (b, a) not in graph.edges or graph.nodes[a].kind == "job"]
    level = dict.fromkeys(graph.nodes, 0)
    for _ in range(len(graph.nodes)):  # a longer loop cannot raise the levels forever
        changed = False
        for a, b in edges:
            if level[a] + 1 > level[b]:
                level[b], changed = level[a] + 1, True
        if not changed:
            break
    return level


def _label(node: Node) -> str:
    """A short name: a task without its DAG id, a dataset as the last parts of its name."""
    if node.kind == "job":
        return node.name.split(".", 1)[-1]
    return "/".join(node.name.strip("/").split("/")[-2:]) if "/" in node.name.strip("/") else node.name


STATE_COLOURS = {"COMPLETE": "#2e7d32", "FAIL": "#c62828", "START": "#f9a825", "RUNNING": "#f9a825"}


def render_lineage(graph: LineageGraph) -> str:
    """The graph as an SVG drawing in columns (datasets as boxes, tasks as rounded boxes coloured by their last
    state), with edges left to right; plain HTML, no script."""
    from html import escape

    if not graph.nodes:
        return "<p>No lineage events for this run.</p>"
    level = layers(graph)
    columns: dict[int, list[str]] = {}
    for node_id in sorted(graph.nodes, key=lambda n: (level[n], _label(graph.nodes[n]))):
        columns.setdefault(level[node_id], []).append(node_id)
    width, height, gap_x, gap_y = 170, 26, 60, 12
    position = {
        node_id: (column * (width + gap_x), row * (height + gap_y))
        for column, members in columns.items()
        for row, node_id in enumerate(members)
    }
    total_w = (max(columns) + 1) * (width + gap_x)
    total_h = max(len(m) for m in columns.values()) * (height + gap_y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" role="img" '
        f'aria-label="lineage: {len(graph.nodes)} nodes, {len(graph.edges)} edges" font-family="system-ui,sans-serif" '
        'font-size="11">'
    ]
    for a, b in sorted(graph.edges):
        (x1, y1), (x2, y2) = position[a], position[b]
        parts.append(
            f'<line x1="{x1 + width}" y1="{y1 + height / 2}" x2="{x2}" y2="{y2 + height / 2}" stroke="#90a4ae"/>'
        )
    for node_id, (x, y) in position.items():
        node = graph.nodes[node_id]
        job = node.kind == "job"
        colour = STATE_COLOURS.get(graph.states.get(node_id, ""), "#546e7a") if job else "#1565c0"
        parts.append(
            f'<g class="lineage-{node.kind}"><title>{escape(node.namespace)} {escape(node.name)}</title>'
            f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="{10 if job else 2}" fill="white" '
            f'stroke="{colour}" stroke-width="{2 if job else 1}"/>'
            f'<text x="{x + 6}" y="{y + 17}" fill="{colour}">{escape(_label(node)[:28])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
