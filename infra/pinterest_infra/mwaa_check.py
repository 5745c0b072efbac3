"""MWAA's own environment, reproduced: does the bundle work on MWAA's image, with only requirements.txt added?

``install --venv DIR`` installs requirements.txt into a Python 3.12 venv that already holds exactly MWAA's
3.3.1 image package set (constraints/mwaa-3.3.1-image-packages.txt), under MWAA's 3.3.1 constraints
(vendored: constraints/mwaa-3.3.1-constraints-3.12.txt, because the URL in requirements.txt is not reachable
offline), as MWAA does when an environment starts.

``check --venv DIR`` lays the bundle out as MWAA does (``dags/`` synced, plugins.zip unzipped into
``plugins/``), sources startup.sh (so ``PINTEREST_PROFILE=aws`` and the deployment facts are set), and in that
venv, with only the DAG and plugin folders of ours on ``sys.path``:

1. parses every DAG file (no import error);
2. imports every module an ``aws``-profile task imports at run time, found from the parsed DAG itself: from
   each task's Python callable and each method of its operator class (when ours), every import statement
   and every function of ours they call or import, followed transitively; statements after an
   ``if AWS: ... return/raise`` guard are the local profile's and are not followed;
3. loads the DBAPI driver of the RDS source's URL scheme (``mysql+pymysql``) without connecting.

It prints one line per finding and exits 1 when any is found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

from pinterest_infra import bundle

REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO / "constraints" / "mwaa-3.3.1-constraints-3.12.txt"
IMAGE_PACKAGES = REPO / "constraints" / "mwaa-3.3.1-image-packages.txt"
# The source database the aws profile reads: an RDS MySQL instance through SQLAlchemy's PyMySQL dialect.
SOURCE_URL_SCHEME = "mysql+pymysql"
# Example deployment facts: the check needs values of the right shape, never a real deployment's.
EXAMPLE_FACTS = {
    "KAFKA_BOOTSTRAP_SERVERS": "b-1.example.kafka.us-east-1.amazonaws.com:9098,b-2.example.kafka.us-east-1.amazonaws.com:9098",
    "PINTEREST_ACCOUNT_ID": "123456789012",
    "PINTEREST_MSK_BOOTSTRAP_SERVERS_IAM": "b-1.example.kafka.us-east-1.amazonaws.com:9098,b-2.example.kafka.us-east-1.amazonaws.com:9098",
    "PINTEREST_SUBNET_ID_A": "subnet-0123456789abcdef0",
    "PINTEREST_SUBNET_ID_B": "subnet-0fedcba9876543210",
    "PINTEREST_SECURITY_GROUP_ID": "sg-0123456789abcdef0",
    "PINTEREST_S3_SINK_CUSTOM_PLUGIN_ARN": "arn:aws:kafkaconnect:us-east-1:123456789012:custom-plugin/pinterest-confluent-s3-sink/0a1b2c3d-1",
    "PINTEREST_CONNECTOR_ROLE_NAME": "pinterest-s3-sink-connector",
    "PINTEREST_CONNECTOR_LOG_GROUP": "/msk-connect/pinterest-s3-sink",
    "PINTEREST_DATABRICKS_INSTANCE_PROFILE_ARN": "arn:aws:iam::123456789012:instance-profile/pinterest-databricks",
    "PINTEREST_GIT_URL": "https://github.com/example-org/pinterest-pipeline",
    "PINTEREST_GIT_PROVIDER": "gitHub",
    "PINTEREST_GIT_BRANCH": "main",
}


def mwaa_requirements(requirements: Path) -> list[str]:
    """requirements.txt's lines without its ``--constraint`` URL (replaced by the vendored file)."""
    lines = []
    for line in requirements.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or re.match(r"^(-c|--constraint)\b", stripped):
            continue
        lines.append(stripped)
    return lines


def install(venv: Path, requirements: Path = REPO / "requirements.txt") -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(mwaa_requirements(requirements)) + "\n")
    try:
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "-r", handle.name, "-c", str(CONSTRAINTS)], check=True
        )
    finally:
        os.unlink(handle.name)


CHILD = textwrap.dedent(
    r'''
    import ast, importlib, inspect, json, os, sys, textwrap, types
    home = os.environ["AIRFLOW_HOME"]
    dags, plugins = os.path.join(home, "dags"), os.path.join(home, "plugins")
    sys.path[:0] = [dags, plugins]  # what MWAA puts on sys.path, and nothing else of ours
    report = {"profile": os.environ.get("PINTEREST_PROFILE"), "import_errors": {}, "tasks": 0,
              "runtime_modules": {}, "functions": 0, "driver": None}

    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=dags)
    report["import_errors"] = {os.path.relpath(k, dags): str(v)[-1500:] for k, v in bag.import_errors.items()}
    report["dag_ids"] = sorted(bag.dag_ids)

    def ours(obj):
        try:
            path = inspect.getsourcefile(obj) or ""
        except TypeError:
            return False
        return os.path.abspath(path).startswith(home + os.sep)

    def is_aws_test(test):
        # `if AWS:` / `if SETTINGS.profile == "aws":`: the DAG's way of choosing the aws profile's branch
        if isinstance(test, ast.Name) and test.id == "AWS":
            return True
        return isinstance(test, ast.Compare) and any(isinstance(c, ast.Constant) and c.value == "aws"
                                                      for c in test.comparators)

    def aws_statements(statements):
        """The statements that run on the aws profile: after `if AWS: ... return/raise` nothing else does."""
        for stmt in statements:
            if isinstance(stmt, ast.If) and is_aws_test(stmt.test):
                yield from aws_statements(stmt.body)
                if stmt.body and isinstance(stmt.body[-1], (ast.Return, ast.Raise)):
                    return
                continue
            yield stmt
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.AST):
                    yield from aws_statements(inner)

    def load(name):
        if name not in report["runtime_modules"]:
            try:
                importlib.import_module(name)
                report["runtime_modules"][name] = None
            except Exception as error:
                report["runtime_modules"][name] = f"{type(error).__name__}: {error}"
        return sys.modules.get(name)

    seen = set()

    def visit(fn):
        """The imports a function of ours runs on the aws profile, and the functions of ours it calls."""
        fn = getattr(fn, "__func__", fn)  # staticmethod, classmethod
        if not callable(fn) or not inspect.isfunction(inspect.unwrap(fn)):
            return
        fn = inspect.unwrap(fn)
        if fn in seen or not ours(fn):
            return
        seen.add(fn)
        report["functions"] += 1
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        body = tree.body[0].body if tree.body and hasattr(tree.body[0], "body") else tree.body
        called = []
        for stmt in aws_statements(body):
            nodes = [stmt] if isinstance(stmt, (ast.Import, ast.ImportFrom)) else []
            for node in nodes:
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        load(alias.name)
                elif node.module and node.level == 0:
                    module = load(node.module)
                    called += [getattr(module, a.name, None) for a in node.names if module is not None]
        code_objects, names = [fn.__code__], set()
        while code_objects:
            code = code_objects.pop()
            names |= set(code.co_names)
            code_objects += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        called += [fn.__globals__.get(n) for n in names]
        for cell in fn.__closure__ or ():
            try:
                called.append(cell.cell_contents)
            except ValueError:
                pass
        for obj in called:
            if inspect.isfunction(obj):
                visit(obj)
            elif inspect.isclass(obj) and ours(obj):
                for member in vars(obj).values():
                    visit(member)

    for dag in bag.dags.values():
        for task in dag.tasks:
            report["tasks"] += 1
            if getattr(task, "python_callable", None) is not None:
                visit(task.python_callable)
            for cls in type(task).__mro__:
                if ours(cls):
                    for member in vars(cls).values():
                        visit(member)

    # The plugins as MWAA's components load them, and the apps its API server mounts (the pipeline page).
    from airflow import plugins_manager
    plugins_manager.ensure_plugins_loaded()
    report["plugin_errors"] = {os.path.relpath(k, plugins): v[-1500:]
                               for k, v in plugins_manager.get_import_errors().items()}
    report["plugin_apps"] = [app["url_prefix"] for app in plugins_manager.get_fastapi_plugins()[0]]
    load("include.pinterest.report")  # what the page imports when it renders

    try:
        from sqlalchemy.engine import make_url
        make_url(os.environ["SOURCE_URL_SCHEME"] + "://user@localhost/pinterest").get_dialect().import_dbapi()
    except Exception as error:
        report["driver"] = f"{type(error).__name__}: {error}"
    print("REPORT " + json.dumps(report))
    '''
)


def check(venv: Path, work: Path) -> dict:
    """Run the check in ``venv`` on a fresh bundle laid out under ``work``; return the child's report."""
    dist = bundle.package(work / "dist", deployment=EXAMPLE_FACTS)
    home = work / "airflow"
    shutil.copytree(dist / "dags", home / "dags")
    with zipfile.ZipFile(dist / bundle.PLUGINS_KEY) as archive:
        archive.extractall(home / "plugins")
    (work / "child.py").write_text(CHILD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AIRFLOW", "PINTEREST", "VIRTUAL_ENV"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(home / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AWS_DEFAULT_REGION="us-east-1",
        SOURCE_URL_SCHEME=SOURCE_URL_SCHEME,
        PATH=f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
    )
    script = f'. "{dist / bundle.STARTUP_KEY}" >/dev/null && exec "{venv / "bin" / "python"}" -I "{work / "child.py"}"'
    done = subprocess.run(["sh", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the check itself failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(lines[-1][len("REPORT ") :])


def findings(report: dict) -> list[str]:
    """What would break on MWAA, one line each (empty when the bundle works there)."""
    problems = []
    if report["profile"] != "aws":
        problems.append(f"startup.sh did not set PINTEREST_PROFILE=aws (got {report['profile']!r})")
    problems += [
        f"DAG import error in {path}: {error.strip().splitlines()[-1]}"
        for path, error in report["import_errors"].items()
    ]
    if not report.get("dag_ids"):
        problems.append("no DAG parsed")
    problems += [
        f"a task's run-time import fails: import {name}: {error}"
        for name, error in report["runtime_modules"].items()
        if error
    ]
    problems += [f"plugin import error in {path}: {error}" for path, error in report.get("plugin_errors", {}).items()]
    if "/pinterest" not in report.get("plugin_apps", []):
        problems.append("the pipeline page's app (/pinterest) is not among the API server's plugin apps")
    if report["driver"]:
        problems.append(f"no DBAPI driver for the source URL scheme {SOURCE_URL_SCHEME}: {report['driver']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install", "check"])
    parser.add_argument("--venv", type=Path, default=REPO / ".cache" / "mwaa-venv")
    args = parser.parse_args(argv)
    if not (args.venv / "bin" / "python").exists():
        print(f"mwaa-check: skipped: no MWAA venv at {args.venv} (needs Python 3.12: run `make setup`)")
        return 0
    if args.command == "install":
        install(args.venv)
        return 0
    with tempfile.TemporaryDirectory(prefix="mwaa-check-") as work:
        report = check(args.venv, Path(work))
    problems = findings(report)
    print(
        f"mwaa-check: {len(report['dag_ids'])} DAG(s), {report['tasks']} tasks parsed with PINTEREST_PROFILE="
        f"{report['profile']}; {report['functions']} functions of ours followed, "
        f"{len(report['runtime_modules'])} run-time modules imported"
    )
    for problem in problems:
        print(f"  FAIL {problem}")
    print(
        "mwaa-check: "
        + ("failed" if problems else "passed: the bundle parses and its aws tasks import on MWAA's image")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
