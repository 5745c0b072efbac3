"""The real linters on the real templates and policies: cfn-lint, checkov, cdk-nag, parliament.

Every finding that is accepted is listed in infra/lint-suppressions.toml with its reason; a new finding, or a
suppression whose finding is gone, fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from pinterest_infra import policies

from .conftest import REPO, infra_tool

SUPPRESSIONS = tomllib.loads((REPO / "infra" / "lint-suppressions.toml").read_text())


def _templates(assembly: Path) -> list[Path]:
    return sorted(assembly.glob("*.template.json"))


def test_every_suppression_has_a_reason():
    for tool, entries in SUPPRESSIONS.items():
        for rule, reason in entries.items():
            assert isinstance(reason, str) and len(reason) > 20, (tool, rule)


def _accepted(tool: str, rule: str, logical_id: str) -> str | None:
    """The suppression key of ``tool`` that covers ``rule`` on ``logical_id`` ("<rule>/<logical id prefix>")."""
    for key in SUPPRESSIONS.get(tool, {}):
        key_rule, _, prefix = key.partition("/")
        if key_rule == rule and logical_id.startswith(prefix):
            return key
    return None


def test_cfn_lint_finds_no_error_and_nothing_unexplained(assembly):
    cfn_lint = infra_tool("cfn-lint")
    done = subprocess.run(
        [str(cfn_lint), "--format", "json", *map(str, _templates(assembly))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    findings = json.loads(done.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000]
    used, unexplained = set(), []
    for finding in findings:
        path = finding["Location"]["Path"]
        logical_id = path[1] if len(path) > 1 and path[0] == "Resources" else ""
        key = _accepted("cfn-lint", finding["Rule"]["Id"], logical_id)
        if key is None:
            unexplained.append((finding["Rule"]["Id"], path, finding["Message"]))
        used.add(key)
    assert unexplained == []
    assert set(SUPPRESSIONS.get("cfn-lint", {})) - used == set(), "suppressions whose finding is gone"


def test_checkov_finds_nothing_unexplained(assembly, tmp_path):
    checkov = infra_tool("checkov")
    folder = tmp_path / "templates"
    folder.mkdir()
    for template in _templates(assembly):
        (folder / template.name).write_text(template.read_text())
    command = [str(checkov), "--directory", str(folder), "--framework", "cloudformation", "--skip-download",
               "--output", "json", "--compact"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})  # fmt: skip
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert passed > 100, "checkov ran its CloudFormation checks"
    used, unexplained = set(), []
    for check in failed:
        key = _accepted("checkov", check["check_id"], check["resource"].split(".", 1)[-1])
        if key is None:
            unexplained.append((check["check_id"], check["check_name"], check["resource"], check.get("severity")))
        used.add(key)
    assert unexplained == []
    assert set(SUPPRESSIONS.get("checkov", {})) - used == set(), "suppressions whose finding is gone"


def test_cdk_nag_has_no_unacknowledged_finding(assembly):
    """cdk-nag runs as a policy validation plugin: a finding fails the synthesis (the assembly fixture) and is
    written to the validation report, which says success only when every finding is acknowledged."""
    report = json.loads((assembly / "validation-report.json").read_text())
    plugins = {p["pluginName"]: p for p in report["pluginReports"]}
    assert "AwsSolutions" not in plugins or plugins["AwsSolutions"]["conclusion"] == "success", plugins
    assert all(p["conclusion"] == "success" for p in plugins.values())


def test_cdk_nag_ran_and_its_suppressions_carry_reasons(templates):
    reasons = []
    for template in templates.values():
        for resource in template["Resources"].values():
            rules = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
            reasons += [(r["id"], r["reason"]) for r in rules]
    assert reasons, "cdk-nag suppressions are recorded in the template metadata"
    assert all(len(reason) > 20 for _, reason in reasons)


REAL_LOOKING = {
    "region": "us-east-1",
    "account_id": "123456789012",
    "topic_prefix": "pinterest",
    "lake_bucket": "pinterest-lake-123456789012-us-east-1",
    "mwaa_bucket": "airflow-pinterest-123456789012-us-east-1",
    "mwaa_env": "pinterest",
    "msk_cluster_name": "pinterest-msk",
    "msk_cluster_uuid": "0a1b2c3d-4e5f-6789-abcd-ef0123456789-2",
    "connector_role_name": "pinterest-s3-sink-connector",
    "ingest_function_name": "pinterest-ingest-api",
}


def _parliament(parliament: Path, policy: dict) -> subprocess.CompletedProcess:
    # On stdin: parliament refuses --file when its stdin is not a terminal, as under pytest.
    return subprocess.run(
        [str(parliament), "--json"],
        input=json.dumps(policy),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.mark.parametrize("name", policies.ROLE_POLICIES)
def test_parliament_accepts_the_policy(name):
    parliament = infra_tool("parliament")
    done = _parliament(parliament, policies.policy(name, REAL_LOOKING))
    findings = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    accepted = SUPPRESSIONS.get("parliament", {})
    unexplained = [f for f in findings if f"{name}:{f['issue']}" not in accepted]
    assert unexplained == [], unexplained


def test_parliament_can_fail():
    parliament = infra_tool("parliament")
    bucket_arn_for_an_object_action = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"}],
    }
    assert "RESOURCE_MISMATCH" in _parliament(parliament, bucket_arn_for_an_object_action).stdout
