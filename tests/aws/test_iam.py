"""The IAM policies are valid, least-privilege, and every action has a reason that still exists.

``include/aws/iam/actions.json`` maps each statement's actions to why they are there: a code file and the
call that needs the action, or a platform need with its documentation. A policy line without a caller, a
manifest entry without a policy line, or a caller removed from the code fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pinterest_infra.policies import ROLE_POLICIES

REPO = Path(__file__).resolve().parents[2]
IAM = REPO / "include" / "aws" / "iam"
POLICIES = list(ROLE_POLICIES)  # the files the stacks read (pinterest_infra.policies)
MANIFEST = json.loads((IAM / "actions.json").read_text())

ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")  # service:Action, no wildcard anywhere
SID = re.compile(r"^[A-Za-z0-9]+$")
ARN = re.compile(r"^arn:aws:[a-z0-9-]+:[^:]*:[^:]*:.+$")
STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource", "NotResource", "Condition"}
# AWS allows Resource "*" only where an action has no resource-level permissions: the Sid must say so.
STAR_SID = re.compile(r"NoResourceLevelPermissions$")


def _policy(name: str) -> dict:
    return json.loads((IAM / name).read_text())


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def grammar_errors(policy: dict) -> list[str]:
    """What makes ``policy`` not an identity policy in IAM's grammar (empty when it is one)."""
    errors = []
    if set(policy) != {"Version", "Statement"} or policy.get("Version") != "2012-10-17":
        errors.append("top level must be exactly Version 2012-10-17 and Statement")
    statements = policy.get("Statement")
    if not isinstance(statements, list) or not statements:
        return [*errors, "Statement must be a non-empty list"]
    sids = [s.get("Sid") for s in statements]
    if len(set(sids)) != len(sids):
        errors.append("Sids must be unique")
    for s in statements:
        where = s.get("Sid", "?")
        if set(s) - STATEMENT_KEYS:
            errors.append(f"{where}: unknown keys {sorted(set(s) - STATEMENT_KEYS)}")
        if not isinstance(s.get("Sid"), str) or not SID.match(s["Sid"]):
            errors.append(f"{where}: Sid must be alphanumeric (it names the manifest entry)")
        if s.get("Effect") not in ("Allow", "Deny"):
            errors.append(f"{where}: Effect must be Allow or Deny")
        actions = s.get("Action")
        if not actions or not all(isinstance(a, str) and ACTION.match(a) for a in _as_list(actions)):
            errors.append(f"{where}: Action must be service:Action strings without wildcards, got {actions!r}")
        if ("Resource" in s) == ("NotResource" in s):
            errors.append(f"{where}: exactly one of Resource and NotResource")
        resources = _as_list(s.get("Resource", s.get("NotResource")))
        for r in resources:
            if not isinstance(r, str) or not (r == "*" or ARN.match(r)):
                errors.append(f"{where}: resource {r!r} is neither an ARN nor *")
        if "*" in resources and not STAR_SID.search(s.get("Sid", "")):
            errors.append(f"{where}: Resource * needs a Sid ending in NoResourceLevelPermissions that says why")
        if "*" in resources and len(resources) > 1:
            errors.append(f"{where}: * next to ARNs makes the ARNs meaningless")
        if "Condition" in s and not isinstance(s["Condition"], dict):
            errors.append(f"{where}: Condition must be an object")
    return errors


@pytest.mark.parametrize("name", POLICIES)
def test_policy_follows_the_iam_grammar(name):
    assert grammar_errors(_policy(name)) == []


@pytest.mark.parametrize(
    "broken, complaint",
    [
        ({"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}, "without wildcards"),
        ({"Sid": "A", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b"}, "without wildcards"),
        ({"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "NoResourceLevelPermissions"),
        ({"Sid": "A", "Effect": "Permit", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}, "Effect"),
        ({"Sid": "A-b", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}, "alphanumeric"),
        ({"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject"}, "exactly one of Resource"),
        ({"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "bucket"}, "neither an ARN"),
    ],
)
def test_the_grammar_check_can_fail(broken, complaint):
    errors = grammar_errors({"Version": "2012-10-17", "Statement": [broken]})
    assert any(complaint in e for e in errors), errors


def _policy_pairs(name: str) -> set[tuple[str, str]]:
    return {(s["Sid"], a) for s in _policy(name)["Statement"] for a in _as_list(s["Action"])}


def _manifest_entries(name: str):
    for sid, entries in MANIFEST["policies"][name]["statements"].items():
        for entry in entries:
            yield sid, entry


def test_the_manifest_covers_exactly_the_role_policies():
    assert sorted(MANIFEST["policies"]) == sorted(POLICIES)


@pytest.mark.parametrize("name", POLICIES)
def test_every_policy_action_has_a_reason_and_every_reason_a_policy_action(name):
    manifest_pairs = {(sid, e["action"]) for sid, e in _manifest_entries(name)}
    policy_pairs = _policy_pairs(name)
    assert policy_pairs - manifest_pairs == set(), "policy actions nobody needs (or undocumented)"
    assert manifest_pairs - policy_pairs == set(), "manifest reasons without a policy action"


def _code_entries():
    for name in POLICIES:
        for sid, entry in _manifest_entries(name):
            if "call" in entry:
                yield pytest.param(entry, id=f"{name}:{sid}:{entry['action']}")


def _platform_entries():
    for name in POLICIES:
        for sid, entry in _manifest_entries(name):
            if "call" not in entry:
                yield pytest.param(entry, id=f"{name}:{sid}:{entry['action']}")


@pytest.mark.parametrize("entry", list(_code_entries()))
def test_a_code_driven_action_is_still_called_by_its_code(entry):
    path = REPO / entry["used_by"]
    assert path.is_file(), f"{entry['action']}: {entry['used_by']} does not exist"
    assert entry["call"] in path.read_text(), f"{entry['action']}: {entry['used_by']} no longer has {entry['call']!r}"


@pytest.mark.parametrize("entry", list(_platform_entries()))
def test_a_platform_action_links_its_documentation(entry):
    assert entry["used_by"].endswith("-platform"), entry
    assert entry["doc"].startswith("https://docs."), entry


def test_no_policy_allows_everything_on_a_service_or_account():
    for name in POLICIES:
        for s in _policy(name)["Statement"]:
            for r in _as_list(s.get("Resource", [])):
                assert not re.match(r"^arn:aws:s3:::\*", r), (name, r)
                assert not r.endswith(":*") or "log-group" in r, (name, r)


def test_the_execution_role_reads_only_the_airflow_secrets():
    statements = {s["Sid"]: s for s in _policy("mwaa-execution-role.json")["Statement"]}
    secrets = [s for s in statements.values() if any(a.startswith("secretsmanager:") for a in _as_list(s["Action"]))]
    assert [a for s in secrets for a in _as_list(s["Action"])] == ["secretsmanager:GetSecretValue"]
    assert sorted(_as_list(secrets[0]["Resource"])) == [
        "arn:aws:secretsmanager:${region}:${account_id}:secret:airflow/connections/*",
        "arn:aws:secretsmanager:${region}:${account_id}:secret:airflow/variables/*",
    ]


def test_pass_role_is_limited_to_the_connector_role_and_msk_connect():
    (stmt,) = [s for s in _policy("mwaa-execution-role.json")["Statement"] if "iam:PassRole" in _as_list(s["Action"])]
    assert stmt["Resource"] == "arn:aws:iam::${account_id}:role/${connector_role_name}"
    assert stmt["Condition"] == {"StringEquals": {"iam:PassedToService": "kafkaconnect.amazonaws.com"}}


def test_the_connector_writes_only_under_topics():
    for s in _policy("msk-connect-connector-role.json")["Statement"]:
        if "s3:PutObject" in _as_list(s["Action"]):
            assert _as_list(s["Resource"]) == ["arn:aws:s3:::${lake_bucket}/topics/*"]


def test_databricks_cannot_write_bronze():
    for s in _policy("databricks-instance-profile.json")["Statement"]:
        if {"s3:PutObject", "s3:DeleteObject"} & set(_as_list(s["Action"])):
            assert not any("/topics/" in r for r in _as_list(s["Resource"])), s["Sid"]


def test_every_role_policy_has_a_trust_policy_and_only_those():
    trusts = json.loads((IAM / "trust-policies.json").read_text())
    assert sorted(k for k in trusts if not k.startswith("_")) == sorted(POLICIES)
    for name in POLICIES:
        (statement,) = trusts[name]["Statement"]
        assert statement["Action"] == "sts:AssumeRole" and statement["Effect"] == "Allow"
        assert set(statement["Principal"]) == {"Service"}


def test_the_ingest_function_writes_only_its_topics():
    (stmt,) = [s for s in _policy("ingest-api-function.json")["Statement"] if "kafka-cluster:WriteData" in s["Action"]]
    topics = sorted(r.rsplit("/", 1)[1] for r in stmt["Resource"])
    assert topics == ["${topic_prefix}.dlq", "${topic_prefix}.geo", "${topic_prefix}.pin", "${topic_prefix}.user"]
