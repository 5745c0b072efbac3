"""Fixtures of the infrastructure tests: a valid config, and the four stacks synthesized once per session.

Synthesis runs the CDK app in the infra tools venv (.cache/infra-venv, Python 3.12, made by `make setup`),
the way `cdk synth` runs it; the tests read the cloud assembly it writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRA_VENV = REPO / ".cache" / "infra-venv"
INFRA_PYTHON = INFRA_VENV / "bin" / "python"
EXAMPLE_VERSIONS = {
    "plugins.zip": "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
    "requirements.txt": "Fq9vWbQ1cH2mLx7rJp0aZ.example",
    "startup.sh": "k2Hd8sQeY0uTn1oPv5Rj.example",
}
STACKS = {
    "network": "pinterest-network",
    "data": "pinterest-data",
    "ingest": "pinterest-ingest",
    "airflow": "pinterest-airflow",
}


def infra_tool(name: str) -> Path:
    path = INFRA_VENV / "bin" / name
    if not path.exists():
        pytest.skip(f"{path} missing: the infra tools venv needs Python 3.12 (make setup)")
    return path


def write_config(folder: Path, **overrides) -> Path:
    """infra/aws.example.toml with a stand-in connector zip next to it (and ``overrides`` appended)."""
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "confluentinc-kafka-connect-s3-10.6.5.zip", "w") as archive:
        archive.writestr("confluentinc-kafka-connect-s3-10.6.5/manifest.json", '{"name": "kafka-connect-s3"}')
    text = (REPO / "infra" / "aws.example.toml").read_text()
    for key, value in overrides.items():
        text = text.replace(f"\n{key} = ", f"\n{key} = {json.dumps(value)}  # was: ", 1)
    path = folder / "aws.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def config_path(tmp_path_factory) -> Path:
    return write_config(tmp_path_factory.mktemp("config"))


def synthesize(config_path: Path, out: Path) -> Path:
    """The CDK app's cloud assembly for ``config_path`` in ``out`` (as `cdk synth` runs it)."""
    python = infra_tool("python")
    env = {
        **os.environ,
        "CDK_OUTDIR": str(out),
        "PINTEREST_AWS_CONFIG": str(config_path),
        "PINTEREST_MWAA_VERSIONS": json.dumps(EXAMPLE_VERSIONS),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    done = subprocess.run(
        [str(python), "-m", "pinterest_infra.app"], env=env, cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out


@pytest.fixture(scope="session")
def assembly(tmp_path_factory, config_path) -> Path:
    return synthesize(config_path, tmp_path_factory.mktemp("cdk") / "cdk.out")


@pytest.fixture(scope="session")
def templates(assembly) -> dict[str, dict]:
    return {part: json.loads((assembly / f"{name}.template.json").read_text()) for part, name in STACKS.items()}
