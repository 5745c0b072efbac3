"""The ingest function as Lambda runs it: the synthesized code and layer assets, alone on the path of a bare
Python 3.12, answer API Gateway proxy events through Mangum, and the producer signs in to MSK with IAM."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import INFRA_VENV

CHILD = r"""
import json, os
from pinterest_infra import ingest_handler
from include.pinterest.ingest import producer

result = {"plain_config_restored": producer.producer_config is ingest_handler._plain_config}
config = ingest_handler.msk_iam_producer_config("b-1.example:9098", 30000)
result["sasl"] = {k: config[k] for k in ("security.protocol", "sasl.mechanism")}
result["has_oauth_cb"] = callable(config["oauth_cb"])
token, expiry = ingest_handler.msk_iam_token("")
result["token_looks_signed"] = len(token) > 100 and expiry > 0

def event(path, content_type, body):
    return {"resource": "/topics/{topic}", "path": path, "httpMethod": "POST",
            "headers": {"Content-Type": content_type, "x-api-key": "checked-by-api-gateway"},
            "multiValueHeaders": {"Content-Type": [content_type]}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": {"topic": path.rsplit("/", 1)[1]},
            "stageVariables": None, "requestContext": {"resourcePath": "/topics/{topic}", "httpMethod": "POST",
            "path": "/prod" + path, "stage": "prod", "identity": {"sourceIp": "127.0.0.1"}, "requestId": "r1"},
            "body": body, "isBase64Encoded": False}

class Context:
    function_name = "pinterest-ingest-api"
    aws_request_id = "r1"
    def get_remaining_time_in_millis(self):
        return 29000

answers = {}
for name, path, content_type in (("wrong_type", "/topics/pinterest.pin", "text/plain"),
                                 ("unknown_topic", "/topics/elsewhere.pin", "application/vnd.kafka.json.v2+json")):
    answer = ingest_handler.handler(event(path, content_type, '{"records": []}'), Context())
    answers[name] = {"status": answer["statusCode"], "body": json.loads(answer["body"])}
result["answers"] = answers
print("RESULT " + json.dumps(result))
"""


def _asset_with(assembly: Path, relative: str) -> Path:
    found = [p for p in assembly.glob("asset.*") if (p / relative).exists()]
    assert len(found) == 1, f"one asset holding {relative}, found {found}"
    return found[0]


def test_the_function_runs_from_its_assets_alone(assembly, tmp_path):
    base_python = Path((INFRA_VENV / "pyvenv.cfg").read_text().split("home = ", 1)[1].splitlines()[0]) / "python3.12"
    if not base_python.exists():
        pytest.skip("no base Python 3.12")
    code = _asset_with(assembly, "pinterest_infra/ingest_handler.py")
    layer = _asset_with(assembly, "python/mangum")
    assert (code / "include" / "pinterest" / "ingest" / "app.py").exists()
    assert not (code / "include" / "pinterest" / "spark").exists(), "only what the API needs is packaged"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{code}:{layer / 'python'}",  # Lambda's /var/task and /opt/python
        "AWS_LAMBDA_FUNCTION_NAME": "pinterest-ingest-api",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PINTEREST_PROFILE": "aws",
        "PINTEREST_TOPIC_PREFIX": "pinterest",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:45998",  # nothing listens: no request here reaches Kafka
        "INGEST_API_AUTH": "off",
    }
    done = subprocess.run(
        [str(base_python), "-s", "-c", CHILD], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    assert result["plain_config_restored"]
    assert result["sasl"] == {"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER"}
    assert result["has_oauth_cb"] and result["token_looks_signed"]
    assert result["answers"]["wrong_type"]["status"] == 415
    assert result["answers"]["wrong_type"]["body"]["error_code"] == 41501
    assert result["answers"]["unknown_topic"]["status"] == 404
    assert result["answers"]["unknown_topic"]["body"]["error_code"] == 40401
