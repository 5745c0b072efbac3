"""The MWAA bundle works where MWAA puts it, and deploys to S3 as a sync.

The import test unpacks the bundle into an MWAA-like AIRFLOW_HOME (``dags/`` and ``plugins/`` with
plugins.zip extracted) and imports it in a fresh interpreter (``-I``, cwd elsewhere) whose sys.path holds only
those two folders plus site-packages: an ``import include...`` that only worked thanks to the repo root, or a
trigger missing from plugins.zip (the triggerer does not load the DAG bundle), fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from pinterest_infra import bundle as mwaa

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return mwaa.package(tmp_path_factory.mktemp("dist") / "mwaa")


# ------------------------------------------------------------------------------------------------ the package


def test_bundle_layout(bundle):
    dags = bundle / "dags"
    assert sorted(p.name for p in dags.glob("*.py")) == sorted(p.name for p in (REPO / "dags").glob("*.py"))
    assert (dags / "include" / "__init__.py").exists()
    assert (dags / "include" / "pinterest" / "settings.py").exists()
    assert (dags / ".airflowignore").read_text().strip() == "include/"
    leftovers = [p for p in dags.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc" or "tests" in p.parts]
    assert leftovers == []
    assert (bundle / "requirements.txt").read_bytes() == (REPO / "requirements.txt").read_bytes()
    assert "--constraint" in (bundle / "requirements.txt").read_text()


def test_plugins_zip_has_the_provider_at_its_root(bundle):
    with zipfile.ZipFile(bundle / "plugins.zip") as archive:
        names = archive.namelist()
        infos = archive.infolist()
    expected = sorted(
        p.relative_to(REPO / "plugins").as_posix()
        for p in (REPO / "plugins").rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert names == expected  # sorted, complete, rooted at pinterest_provider/
    assert "pinterest_provider/__init__.py" in names
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_repackaging_gives_the_same_bytes(tmp_path, bundle):
    again = mwaa.package(tmp_path / "again")
    for name in ("plugins.zip", "requirements.txt", "startup.sh"):
        assert (again / name).read_bytes() == (bundle / name).read_bytes(), name


def test_startup_script_names_the_deployment_and_holds_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("PINTEREST_TOPIC_PREFIX", "0a1b2c3d")
    monkeypatch.setenv("PINTEREST_BUCKET", "user-0a1b2c3d-bucket")
    script = (mwaa.package(tmp_path / "mwaa") / "startup.sh").read_text()
    assert "export PINTEREST_PROFILE=aws" in script
    assert 'export PINTEREST_TOPIC_PREFIX="0a1b2c3d"' in script
    assert 'export PINTEREST_BUCKET="user-0a1b2c3d-bucket"' in script
    assert "@@" not in script
    lowered = script.lower()
    for word in ("secret_access_key", "aws_access_key_id", "password", "token="):
        assert word not in lowered
    subprocess.run(["sh", "-n", str(tmp_path / "mwaa" / "startup.sh")], check=True)  # valid shell


def test_startup_script_refuses_a_value_that_could_break_out_of_its_quotes(tmp_path, monkeypatch):
    monkeypatch.setenv("PINTEREST_TOPIC_PREFIX", 'x"; curl evil #')
    with pytest.raises(ValueError, match="PINTEREST_TOPIC_PREFIX"):
        mwaa.package(tmp_path / "mwaa")


def test_startup_script_exports_the_deployment_facts_when_given(tmp_path):
    facts = {name: f"value-{i}" for i, name in enumerate(mwaa.DEPLOYMENT_FACTS)}
    facts["PINTEREST_MSK_BOOTSTRAP_SERVERS_IAM"] = "b-1.x.kafka.us-east-1.amazonaws.com:9098,b-2.x:9098"
    script = (mwaa.package(tmp_path / "mwaa", deployment=facts) / "startup.sh").read_text()
    for name, value in facts.items():
        assert f'export {name}="{value}"' in script
    subprocess.run(["sh", "-n", str(tmp_path / "mwaa" / "startup.sh")], check=True)
    with pytest.raises(ValueError, match="missing"):
        mwaa.package(tmp_path / "again", deployment={"PINTEREST_ACCOUNT_ID": "123456789012"})


def test_an_unknown_startup_marker_is_an_error():
    with pytest.raises(KeyError, match="@@TYPO@@"):
        mwaa.render_startup("export X=@@TYPO@@\n", {"PINTEREST_BUCKET": "b"})


# ---------------------------------------------------------------------- importable in an MWAA-like layout

CHILD = textwrap.dedent(
    """
    import importlib, inspect, json, os, pkgutil, sys
    home = os.environ["AIRFLOW_HOME"]
    dags, plugins = os.path.join(home, "dags"), os.path.join(home, "plugins")
    repo = sys.argv[1]
    assert not any(p.rstrip("/") == repo for p in sys.path), sys.path
    sys.path[:0] = [dags, plugins]  # what MWAA puts on sys.path, and nothing else of ours

    from airflow.dag_processing.dagbag import DagBag
    from airflow.triggers.base import BaseTrigger
    from airflow._shared.module_loading import import_string  # what the triggerer uses

    bag = DagBag(dag_folder=dags)
    import include, pinterest_provider
    report = {
        "import_errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()},
        "dag_ids": sorted(bag.dag_ids),
        "dag_files": sorted(os.path.relpath(d.fileloc, dags) for d in bag.dags.values()),
        "include_from": os.path.dirname(include.__file__),
        "provider_from": os.path.dirname(pinterest_provider.__file__),
        "triggers": {},
    }
    import pinterest_provider.triggers as triggers_pkg
    for info in pkgutil.iter_modules(triggers_pkg.__path__):
        module = importlib.import_module(f"pinterest_provider.triggers.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, BaseTrigger) or cls.__module__ != module.__name__:
                continue
            params = inspect.signature(cls.__init__).parameters.values()
            kwargs = {p.name: "x" for p in params if p.name != "self" and p.default is p.empty
                      and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
            classpath, serialized = cls(**kwargs).serialize()
            resolved = import_string(classpath)
            again = resolved(**serialized).serialize()
            report["triggers"][f"{module.__name__}.{name}"] = {
                "classpath": classpath,
                "resolves_to_itself": resolved is cls,
                "round_trips": again == (classpath, serialized),
                "resolved_from": inspect.getfile(resolved),
            }
    print("REPORT " + json.dumps(report))
    """
)


def _mwaa_home(bundle: Path, home: Path) -> Path:
    """An AIRFLOW_HOME laid out like MWAA's: the DAG folder synced, plugins.zip unzipped."""
    import shutil

    shutil.copytree(bundle / "dags", home / "dags")
    with zipfile.ZipFile(bundle / "plugins.zip") as archive:
        archive.extractall(home / "plugins")
    return home


def test_the_bundle_imports_with_only_dags_and_plugins_on_sys_path(bundle, tmp_path):
    home = _mwaa_home(bundle, tmp_path / "airflow")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AIRFLOW"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(home / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", CHILD, str(REPO)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    report = json.loads(lines[-1][len("REPORT ") :])

    assert report["import_errors"] == {}
    assert "pinterest_pipeline" in report["dag_ids"]
    assert all(not f.startswith("include/") for f in report["dag_files"]), report["dag_files"]
    assert Path(report["include_from"]) == home / "dags" / "include"
    assert Path(report["provider_from"]) == home / "plugins" / "pinterest_provider"

    expected = {
        f"pinterest_provider.triggers.{p.stem}"
        for p in (REPO / "plugins" / "pinterest_provider" / "triggers").glob("*.py")
        if p.stem != "__init__"
    }
    found_modules = {name.rsplit(".", 1)[0] for name in report["triggers"]}
    assert found_modules == expected, "every trigger module in plugins/ defines a trigger that loads"
    for name, trigger in report["triggers"].items():
        assert trigger["resolves_to_itself"] and trigger["round_trips"], (name, trigger)
        assert trigger["classpath"].startswith("pinterest_provider.triggers."), trigger["classpath"]
        assert Path(trigger["resolved_from"]).is_relative_to(home / "plugins"), trigger


# ------------------------------------------------------------------------------------------------------ deploy


def _versioned_bucket(s3, name: str) -> None:
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _keys(s3, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


@pytest.fixture
def aws_env(monkeypatch):
    for key in ("S3_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_deploy_syncs_to_a_versioned_bucket(bundle, tmp_path, aws_env, capsys):
    import boto3
    from moto import mock_aws

    dist = tmp_path / "dist"
    import shutil

    shutil.copytree(bundle, dist)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        _versioned_bucket(s3, "mwaa-env-bucket")
        s3.put_object(Bucket="mwaa-env-bucket", Key="dags/removed_dag.py", Body=b"# gone from the repo")
        s3.put_object(Bucket="mwaa-env-bucket", Key="unrelated/keep.txt", Body=b"not ours")

        first = mwaa.deploy(dist, "mwaa-env-bucket", s3)
        keys = _keys(s3, "mwaa-env-bucket")
        assert "dags/pinterest_pipeline.py" in keys
        assert "dags/include/pinterest/settings.py" in keys
        assert "dags/.airflowignore" in keys
        assert {"plugins.zip", "requirements.txt", "startup.sh"} <= keys
        assert "dags/removed_dag.py" not in keys and first.deleted == ["dags/removed_dag.py"]
        assert "unrelated/keep.txt" in keys  # only dags/ is synced
        settings = first.environment_settings()
        for name, key in (
            ("PluginsS3ObjectVersion", "plugins.zip"),
            ("RequirementsS3ObjectVersion", "requirements.txt"),
            ("StartupScriptS3ObjectVersion", "startup.sh"),
        ):
            assert settings[name] == s3.head_object(Bucket="mwaa-env-bucket", Key=key)["VersionId"]
        assert settings["PluginsS3Path"] == "plugins.zip" and settings["DagS3Path"] == "dags"

        second = mwaa.deploy(dist, "mwaa-env-bucket", s3)
        assert second.uploaded == [] and second.deleted == []
        assert second.versions == first.versions  # nothing new for MWAA to install

        (dist / "dags" / "pinterest_pipeline.py").write_text("# changed\n")
        (dist / "dags" / "include" / "pinterest" / "notebook.py").unlink()
        third = mwaa.deploy(dist, "mwaa-env-bucket", s3)
        assert third.uploaded == ["dags/pinterest_pipeline.py"]
        assert third.deleted == ["dags/include/pinterest/notebook.py"]
        body = s3.get_object(Bucket="mwaa-env-bucket", Key="dags/pinterest_pipeline.py")["Body"].read()
        assert body == b"# changed\n"


def test_deploy_command_prints_update_settings_and_updates_only_when_asked(bundle, tmp_path, aws_env, capsys):
    import boto3
    from moto import mock_aws

    calls = []

    class FakeMwaa:
        def update_environment(self, **kwargs):
            calls.append(kwargs)
            return {"Arn": "arn:aws:airflow:us-east-1:123456789012:environment/pinterest"}

    def client(service, endpoint_env=None):
        return FakeMwaa() if service == "mwaa" else boto3.client(service, region_name="us-east-1")

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        _versioned_bucket(s3, "mwaa-env-bucket")
        assert mwaa.main(["deploy", "--dist", str(bundle), "--bucket", "mwaa-env-bucket"], client=client) == 0
        assert calls == []
        out = capsys.readouterr().out
        version = s3.head_object(Bucket="mwaa-env-bucket", Key="plugins.zip")["VersionId"]
        assert f'"PluginsS3ObjectVersion": "{version}"' in out
        assert "testing" not in out  # the credentials are never printed

        mwaa.main(
            ["deploy", "--dist", str(bundle), "--bucket", "mwaa-env-bucket", "--update-env", "pinterest"], client=client
        )
        assert calls == [{"Name": "pinterest", **json.loads(out[out.index("{") :])}]
        assert calls[0]["PluginsS3ObjectVersion"] == version


def test_deploy_refuses_an_unbuilt_bundle(tmp_path):
    with pytest.raises(FileNotFoundError, match="package"):
        mwaa.deploy(tmp_path, "bucket", s3=None)


@pytest.mark.integration
def test_deploy_to_the_local_object_store(bundle, platform_env):
    """Against the test platform's S3 (S3Proxy): sync, re-sync with no change, delete of a removed DAG."""
    import uuid

    import boto3

    s3 = boto3.client("s3", endpoint_url=platform_env["S3_ENDPOINT_URL"], region_name="us-east-1")
    bucket = f"mwaa-deploy-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dags/old.py", Body=b"# old")
    try:
        first = mwaa.deploy(bundle, bucket, s3)
        assert "dags/old.py" in first.deleted
        keys = _keys(s3, bucket)
        assert {"plugins.zip", "requirements.txt", "startup.sh", "dags/pinterest_pipeline.py"} <= keys
        assert "dags/old.py" not in keys
        body = s3.get_object(Bucket=bucket, Key="plugins.zip")["Body"].read()
        assert body == (bundle / "plugins.zip").read_bytes()

        second = mwaa.deploy(bundle, bucket, s3)
        assert second.uploaded == [] and second.deleted == []
    finally:  # leave the shared test store as we found it
        for key in sorted(_keys(s3, bucket), key=len, reverse=True):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)
