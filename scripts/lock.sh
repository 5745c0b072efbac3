#!/usr/bin/env bash
# Re-resolves constraints/local-3.11.txt: MWAA's non-overridable pins and its provider versions (from the
# 3.3.1 constraint set) are kept exactly; the rest resolves for Python 3.11 (MWAA's file targets 3.12, and
# some of its pins, e.g. numpy 2.5, have no 3.11 wheels). tests/test_versions.py checks the result.
set -euo pipefail
cd "$(dirname "$0")/.."
mwaa=constraints/mwaa-3.3.1-constraints-3.12.txt
pins=$(mktemp); venv=$(mktemp -d)
trap 'rm -rf "$pins" "$venv"' EXIT
grep -iE '^(apache-airflow==|apache-airflow-providers-|boto3==|botocore==|aiobotocore==|confluent-kafka==|fastapi==|uvicorn==|pydantic==|pydantic_core==|httpx==|SQLAlchemy==|databricks-sql-connector==|requests==|aiohttp==)' "$mwaa" > "$pins"
"${PYTHON:-python3.11}" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -r requirements-local.txt -c "$pins"
{
  echo "# Local lock for Python 3.11: the same Airflow and provider versions as MWAA's 3.3.1 constraint set"
  echo "# ($mwaa), resolved on Python 3.11 with the local extras. Regenerate with"
  echo "# 'make lock'; tests/test_versions.py checks the two agree."
  "$venv/bin/pip" freeze --exclude-editable | sort -f
} > constraints/local-3.11.txt
echo "wrote constraints/local-3.11.txt"
