"""MWAA's own environment: the bundle parses and every aws task's imports load on MWAA's 3.3.1 image package
set plus requirements.txt (Python 3.12, .cache/mwaa-venv from `make setup`; skipped without Python 3.12)."""

from __future__ import annotations

import pytest

from pinterest_infra import mwaa_check

VENV = mwaa_check.REPO / ".cache" / "mwaa-venv"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not (VENV / "bin" / "python").exists():
        pytest.skip(f"no MWAA venv at {VENV}: Python 3.12 is needed (make setup builds it when it finds one)")
    return mwaa_check.check(VENV, tmp_path_factory.mktemp("mwaa-check"))


def test_the_dag_parses_on_the_aws_profile_in_mwaas_environment(report):
    assert report["profile"] == "aws"
    assert report["import_errors"] == {}
    assert report["dag_ids"] == ["pinterest_pipeline"]
    assert report["tasks"] >= 20


def test_every_aws_task_import_and_the_source_driver_load(report):
    assert "include.pinterest.emulator" in report["runtime_modules"], "the posting tasks' import was followed"
    assert report["plugin_apps"] == ["/pinterest"], "the pipeline page is mounted"
    assert mwaa_check.findings(report) == []


def test_the_venv_holds_the_image_set_plus_requirements():
    if not (VENV / "bin" / "python").exists():
        pytest.skip("no MWAA venv")
    import subprocess

    frozen = subprocess.run([str(VENV / "bin" / "pip"), "freeze"], capture_output=True, text=True, check=True).stdout
    installed = {line.split("==")[0].lower().replace("_", "-") for line in frozen.splitlines() if "==" in line}
    image = {
        line.split("==")[0].lower().replace("_", "-")
        for line in mwaa_check.IMAGE_PACKAGES.read_text().splitlines()
        if "==" in line
    }
    assert image <= installed


def test_findings_name_what_would_break():
    report = {
        "profile": "local",
        "import_errors": {"pinterest_pipeline.py": "Traceback\nImportError: x"},
        "dag_ids": [],
        "runtime_modules": {"include.pinterest.emulator": "ModuleNotFoundError: No module named 'tqdm'"},
        "driver": "ModuleNotFoundError: No module named 'pymysql'",
        "plugin_errors": {"pinterest_provider/plugins/pipeline_page.py": "No module named 'fastapi'"},
        "plugin_apps": [],
    }
    text = "\n".join(mwaa_check.findings(report))
    for expected in ("PINTEREST_PROFILE=aws", "pinterest_pipeline.py", "no DAG parsed", "tqdm", "pymysql", "fastapi"):
        assert expected in text


def test_requirements_lose_only_the_unreachable_constraint_url():
    lines = mwaa_check.mwaa_requirements(mwaa_check.REPO / "requirements.txt")
    assert lines and not any("constraint" in line for line in lines)
    assert all("==" in line for line in lines), "every MWAA requirement is pinned"
