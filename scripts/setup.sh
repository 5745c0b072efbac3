#!/usr/bin/env bash
# Installs everything the project needs, idempotently and cached: the Python venv (locked versions), the
# platform's jars from Maven Central, the S3 sink connector plugin, kinesalite from npm,
# PostgreSQL from Debian's packages and Spark's jars.
# Each step is skipped when its inputs have not changed since it last succeeded (stamp files in .cache/).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/stamps

need() { command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' not found on PATH: $2" >&2; exit 2; }; }
need java  "install a JDK 17 or newer"
need mvn   "install Apache Maven 3.8 or newer"
need node  "install Node.js 18 or newer"
need npm   "install npm (comes with Node.js)"
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: Python 3.11+ needed, found $("$PYTHON" -V)" >&2; exit 2; }
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
[ "${java_major:-0}" -ge 17 ] || { echo "error: JDK 17 or newer needed, found Java ${java_major:-unknown}" >&2; exit 2; }

# step NAME INPUT_FILES... -- COMMAND...: run COMMAND unless the inputs' checksum matches the last success.
# One line per step; what the tools print (pip's and Ivy's resolver output) goes to .cache/logs/setup-NAME.log,
# shown in full when the step fails.
step() {
  local name=$1; shift; local inputs=()
  while [ "$1" != "--" ]; do inputs+=("$1"); shift; done; shift
  local sum; sum=$(cat "${inputs[@]}" | sha256sum | cut -c1-16)
  if [ "$(cat ".cache/stamps/$name" 2>/dev/null)" = "$sum" ]; then return 0; fi
  local log=".cache/logs/setup-$name.log" began=$SECONDS
  mkdir -p .cache/logs
  printf 'setup: %-13s ' "$name"
  if ! "$@" >"$log" 2>&1; then
    echo "FAILED; its output ($log):"; cat "$log" >&2; exit 2
  fi
  echo "done ($((SECONDS - began)) s; log $log)"
  echo "$sum" > ".cache/stamps/$name"
}

install_venv() {
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip wheel
  .venv/bin/pip install -q -r requirements-local.txt -c constraints/local-3.11.txt
  # The project itself, editable: every import root of pyproject.toml resolves from any folder and process.
  PYTHONWARNINGS=ignore .venv/bin/pip install -q --no-deps --no-build-isolation -e .  # quiet: setuptools calls its pyproject support beta
}
step venv requirements-local.txt constraints/local-3.11.txt pyproject.toml -- install_venv
step jars platform/jars/pom.xml -- mvn -q -B -f platform/jars/pom.xml package
connector_inputs=$(find platform/connect-s3-sink/src/main platform/connect-s3-sink/pom.xml -type f | sort)
# shellcheck disable=SC2086
step connector $connector_inputs -- mvn -q -B -f platform/connect-s3-sink/pom.xml package -DskipTests
install_kinesalite() {
  mkdir -p .cache/node && cp platform/node/package.json platform/node/package-lock.json .cache/node/
  (cd .cache/node && npm ci --no-audit --no-fund --silent)
}
step kinesalite platform/node/package.json platform/node/package-lock.json -- install_kinesalite
# PostgreSQL's server (Airflow's metadata database, as on MWAA) from Debian's packages; as root setup installs it.
install_postgresql() { apt-get install -y -q postgresql || { apt-get update -q && apt-get install -y -q postgresql; }; }
if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    rm -f .cache/stamps/postgresql && step postgresql scripts/setup.sh -- install_postgresql
  else
    echo "error: PostgreSQL's server is missing: install Debian's 'postgresql' package (apt-get install postgresql)" >&2; exit 2
  fi
fi
# Chromium for the browser test of the Airflow UI page, from Debian's packages (Playwright drives it; its own
# browser downloads are not used). Optional: where it cannot be installed, the browser test skips and says why.
install_chromium() { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; }
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    rm -f .cache/stamps/chromium
    (step chromium scripts/setup.sh -- install_chromium) || echo "setup: chromium not installed: the browser test will skip"
  else
    echo "setup: chromium missing (install Debian's 'chromium' package as root): the browser test will skip"
  fi
fi
step spark-jars include/pinterest/spark/session.py -- .venv/bin/python -m include.pinterest.spark.session --prefetch

# --- AWS side (infra/): tools venv, CDK CLI, the ingest function's layer, MWAA's own Python 3.12 environment.
# Python 3.12 (MWAA's and Lambda's version): PYTHON312, else python3.12 on PATH, else pyenv's 3.12.
find_python312() {
  local candidate
  for candidate in "${PYTHON312:-}" "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.12*/bin/python3.12 \
                   "$(command -v python3.12 || true)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' \
      2>/dev/null && { echo "$candidate"; return; }
  done
}
PYTHON312=$(find_python312)
if [ -n "$PYTHON312" ] && [ -x "$PYTHON312" ]; then
  install_infra_venv() {
    rm -rf .cache/infra-venv && "$PYTHON312" -m venv .cache/infra-venv
    .cache/infra-venv/bin/pip install -q --no-deps -r infra/requirements-tools.txt setuptools==80.9.0
    .cache/infra-venv/bin/pip install -q --no-deps --no-build-isolation -e .
  }
  step infra-venv infra/requirements-tools.txt pyproject.toml -- install_infra_venv
  install_ingest_layer() {
    rm -rf .cache/ingest-lambda/layer
    .cache/infra-venv/bin/pip install -q --no-deps --target .cache/ingest-lambda/layer/python \
      --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --implementation cp --python-version 3.12 \
      --only-binary=:all: -r infra/lambda-requirements.txt
  }
  step ingest-layer infra/lambda-requirements.txt -- install_ingest_layer
  install_mwaa_venv() {
    rm -rf .cache/mwaa-venv && "$PYTHON312" -m venv .cache/mwaa-venv
    # Exactly the image's package set first, then requirements.txt under MWAA's constraints, as MWAA does.
    .cache/mwaa-venv/bin/pip install -q --no-deps -r constraints/mwaa-3.3.1-image-packages.txt
    .cache/infra-venv/bin/python -m pinterest_infra.mwaa_check install --venv .cache/mwaa-venv
  }
  step mwaa-venv constraints/mwaa-3.3.1-image-packages.txt constraints/mwaa-3.3.1-constraints-3.12.txt requirements.txt -- install_mwaa_venv
else
  echo "setup: no Python 3.12 found (set PYTHON312): infra tools, the ingest layer and the MWAA check are skipped"
fi
install_cdk_cli() {
  mkdir -p .cache/cdk-cli && cp infra/cdk-cli/package.json infra/cdk-cli/package-lock.json .cache/cdk-cli/
  (cd .cache/cdk-cli && npm ci --no-audit --no-fund --silent)
}
step cdk-cli infra/cdk-cli/package.json infra/cdk-cli/package-lock.json -- install_cdk_cli
