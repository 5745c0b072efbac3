# The two commands: `make run` (the pipeline end to end on the local platform) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
PLATFORM := $(PY) -m local_platform
PYTEST_ARGS ?=

.PHONY: help setup up down status run test test-fast lint bench lock mwaa-package mwaa-deploy clean source emulate stream-status \
        aws-validate aws-diff aws-deploy aws-destroy mwaa-check

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: ## Install what is missing (venv, jars, connector, kinesalite, PostgreSQL, Spark jars); cached and idempotent
	@scripts/setup.sh

up: setup ## Start the local platform (Kafka, Connect, S3, Kinesis, ingest API, Spark runner, PostgreSQL, Airflow); harmless twice
	@$(PLATFORM) up

down: ## Stop the local platform (whole process groups; data is kept in .state/dev)
	@[ -x $(PY) ] && $(PLATFORM) down || true

status: ## Each service of the local platform: healthy, restarting or failed, port, restarts and last exit, log file
	@$(PLATFORM) status

run: up ## Run the pipeline DAG for today on the local platform and print what happened
	@$(PLATFORM) run

test: setup lint ## Lint, then the whole test suite, including the tests that start the (separate) test platform
	@mvn -q -B -f platform/connect-s3-sink/pom.xml test
	@$(PY) -m pytest $(PYTEST_ARGS); code=$$?; \
	  if [ $$code -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$code

lint: setup ## ruff: formatting and lint rules (pyproject.toml) over every Python file
	@.venv/bin/ruff format --check --quiet . && .venv/bin/ruff check --quiet .

test-fast: setup ## Only the tests that need no platform and no Spark
	@$(PY) -m pytest -m "not integration and not spark" $(PYTEST_ARGS)

source: setup ## Generate the local source tables (as the DAG does: 11,000 posts, seed 7) if they are missing
	@$(PLATFORM) exec -- $(PY) -m include.pinterest.source

emulate: setup ## Post 1,000 events/s for 60 s through the local ingestion API (needs `make up` and `make source`)
	@$(PLATFORM) exec -- $(PY) -m include.pinterest.emulator --mode batch --rate 1000 --duration 60

stream-status: ## The local streaming job: per-table status, rates and lag (JSON)
	@$(PLATFORM) exec -- $(PY) -m include.pinterest.streaming status

bench: setup ## Run the benchmarks (BENCH=streaming,... to choose; BENCH=faults: the fault matrix); JSON in benchmarks/results/
	@$(PY) -m benchmarks.bench

lock: ## Re-resolve constraints/local-3.11.txt from requirements-local.txt (MWAA's Airflow/provider pins)
	@scripts/lock.sh

mwaa-package: setup ## Build the MWAA upload set in dist/mwaa/
	@$(PY) -m pinterest_infra.bundle package

mwaa-deploy: mwaa-package ## Upload dist/mwaa/ to the environment's bucket (MWAA_BUCKET; S3_ENDPOINT_URL for a local store)
	@$(PY) -m pinterest_infra.bundle deploy

clean: down ## Stop the platform and delete its state (.state/); caches in .cache/ are kept
	rm -rf .state dist

# --- The AWS side (infra/, config infra/aws.toml; docs/aws.md). `make test` runs aws-validate and mwaa-check
# as pytest tests (tests/infra, tests/aws).
AWS_CONFIG ?= infra/aws.toml
AWS := PINTEREST_AWS_CONFIG=$(AWS_CONFIG) $(PY) -m pinterest_infra.deploy

aws-validate: setup ## Offline proof of the AWS side: synth, cfn-lint, checkov, cdk-nag, parliament, moto (tests/infra)
	@$(PY) -m pytest -q tests/infra $(PYTEST_ARGS)

aws-diff: setup ## Show what `make aws-deploy` would change (CDK diff of every stack)
	@$(AWS) diff

aws-deploy: setup ## Deploy the whole AWS side: stacks, MWAA bundle, connection secrets; prints the MWAA UI URL
	@$(AWS) deploy

aws-destroy: setup ## Remove the stacks and connection secrets (DELETE_DATA=1 also deletes the buckets)
	@$(AWS) destroy $(if $(DELETE_DATA),--delete-data)

mwaa-check: setup ## Parse the DAG and import every aws task's modules in MWAA's own Python 3.12 package set
	@$(PY) -m pinterest_infra.mwaa_check check
