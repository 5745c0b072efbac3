"""Build and upload the Amazon MWAA bundle: ``package`` writes dist/mwaa/, ``deploy`` syncs it to S3.

(``make mwaa-package``/``mwaa-deploy`` call this module; ``make aws-deploy`` uses it with
the stacks' outputs as the deployment facts written into startup.sh.)

MWAA reads four things from its bucket: the DAG folder (``dags/``), ``plugins.zip`` (unzipped into the plugins
folder, which is on ``sys.path``, so the triggerer can import our triggers), ``requirements.txt`` and
``startup.sh``. Our DAG imports ``include.pinterest...``; MWAA only puts the DAG folder on ``sys.path``, so the
whole ``include`` package is copied to ``dags/include/`` and a ``.airflowignore`` keeps the DAG processor from
parsing it as DAG files.

The package is byte-for-byte reproducible (sorted zip entries, fixed timestamps and modes), so a re-package with
no change uploads nothing and MWAA is not asked to restart for a new ``plugins.zip`` version.

``deploy`` uses boto3's default credential chain (never printed) and honours ``S3_ENDPOINT_URL`` for a local
store. It prints the keys and object versions that ``aws mwaa update-environment`` needs; it only calls
``UpdateEnvironment`` itself when asked with ``--update-env NAME``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIST = REPO / "dist" / "mwaa"
STARTUP_TEMPLATE = REPO / "include" / "aws" / "mwaa" / "startup.sh"

DAGS_PREFIX = "dags/"
PLUGINS_KEY = "plugins.zip"
REQUIREMENTS_KEY = "requirements.txt"
STARTUP_KEY = "startup.sh"

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
EXCLUDED_DIRS = {"__pycache__", "tests", ".pytest_cache", ".ipynb_checkpoints"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Everything under include/ is library code: the DAG processor must not try to parse it as DAG files.
AIRFLOWIGNORE = "include/\n"
# Values written into startup.sh: names only, never secrets. Checked so a stray quote cannot break the script
# (commas: the bootstrap broker list).
SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:/,-]+$")
# The deployment facts the aws profile reads at run time (include/pinterest/connectors.py fills the MSK
# Connect request from them, include/pinterest/databricks_jobs.py the Databricks jobs): stack outputs, written
# into startup.sh by ``make aws-deploy``.
DEPLOYMENT_FACTS = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "PINTEREST_ACCOUNT_ID",
    "PINTEREST_MSK_BOOTSTRAP_SERVERS_IAM",
    "PINTEREST_SUBNET_ID_A",
    "PINTEREST_SUBNET_ID_B",
    "PINTEREST_SECURITY_GROUP_ID",
    "PINTEREST_S3_SINK_CUSTOM_PLUGIN_ARN",
    "PINTEREST_CONNECTOR_ROLE_NAME",
    "PINTEREST_CONNECTOR_LOG_GROUP",
    "PINTEREST_DATABRICKS_INSTANCE_PROFILE_ARN",
    "PINTEREST_GIT_URL",
    "PINTEREST_GIT_PROVIDER",
    "PINTEREST_GIT_BRANCH",
)


# ---------------------------------------------------------------------------------------------------- package


def _wanted(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not any(p in EXCLUDED_DIRS or p.startswith(".") for p in parts) and not path.name.endswith(EXCLUDED_SUFFIXES)


def _files_under(root: Path) -> list[Path]:
    """Files below ``root`` that belong in the bundle, sorted so every walk is in the same order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and _wanted(p, root))


def write_deterministic_zip(source: Path, target: Path) -> None:
    """Zip ``source``'s contents (paths relative to it) with sorted entries and fixed times and modes."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in _files_under(source):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.create_system = 3  # unix, so the mode above is honoured on every builder
            archive.writestr(info, path.read_bytes(), compresslevel=9)


def startup_values(deployment: dict[str, str] | None = None) -> dict[str, str]:
    """The values startup.sh exports: this deployment's Settings (the packager's environment, else defaults)
    and, when given, the deployment facts (exactly :data:`DEPLOYMENT_FACTS`, from the stacks' outputs)."""
    from include.pinterest.settings import Settings

    settings = Settings()
    values = {"PINTEREST_TOPIC_PREFIX": settings.topic_prefix, "PINTEREST_BUCKET": settings.bucket}
    if deployment is None:
        values["DEPLOYMENT_EXPORTS"] = "# no deployment facts: packaged without `make aws-deploy`"
        names: dict[str, str] = {}
    else:
        if set(deployment) != set(DEPLOYMENT_FACTS):
            missing, extra = set(DEPLOYMENT_FACTS) - set(deployment), set(deployment) - set(DEPLOYMENT_FACTS)
            raise ValueError(f"deployment facts: missing {sorted(missing)}, unknown {sorted(extra)}")
        names = dict(deployment)
        values["DEPLOYMENT_EXPORTS"] = "\n".join(f'export {k}="{deployment[k]}"' for k in DEPLOYMENT_FACTS)
    for name, value in {**values, **names}.items():
        if name != "DEPLOYMENT_EXPORTS" and not SAFE_VALUE.match(value):
            raise ValueError(f"{name}={value!r} is not a plain name; refusing to write it into startup.sh")
    return values


def render_startup(template: str, values: dict[str, str]) -> str:
    """Fill ``@@NAME@@`` markers; an unknown or unfilled marker is an error, not a literal in MWAA."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"startup.sh: no value for @@{name}@@")
        return values[name]

    return re.sub(r"@@([A-Z_]+)@@", fill, template)


def package(out: Path = DEFAULT_DIST, repo: Path = REPO, deployment: dict[str, str] | None = None) -> Path:
    """Build the MWAA upload set in ``out`` (replaced as a whole, so removed files do not linger);
    ``deployment`` holds the facts startup.sh exports (see :func:`startup_values`)."""
    if out.exists():
        shutil.rmtree(out)
    dags = out / "dags"
    dags.mkdir(parents=True)
    for dag_file in sorted((repo / "dags").glob("*.py")):
        shutil.copy2(dag_file, dags / dag_file.name)
    include = repo / "include"
    for path in _files_under(include):
        target = dags / "include" / path.relative_to(include)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (dags / ".airflowignore").write_text(AIRFLOWIGNORE)

    write_deterministic_zip(repo / "plugins", out / PLUGINS_KEY)
    shutil.copyfile(repo / "requirements.txt", out / REQUIREMENTS_KEY)
    template = (repo / "include" / "aws" / "mwaa" / "startup.sh").read_text()
    (out / STARTUP_KEY).write_text(render_startup(template, startup_values(deployment)))
    return out


# ----------------------------------------------------------------------------------------------------- deploy


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _remote_etags(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    etags: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/"):  # a folder marker (S3Proxy's file store lists its directories)
                continue
            etags[obj["Key"]] = obj.get("ETag", "").strip('"')
    return etags


@dataclass
class DeployResult:
    """What changed in the bucket, and the versions ``update-environment`` needs."""

    bucket: str
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    versions: dict[str, str | None] = field(default_factory=dict)

    def environment_settings(self) -> dict[str, str]:
        """Keyword arguments of MWAA's UpdateEnvironment (versions only when the bucket is versioned)."""
        settings = {
            "DagS3Path": DAGS_PREFIX.rstrip("/"),
            "PluginsS3Path": PLUGINS_KEY,
            "RequirementsS3Path": REQUIREMENTS_KEY,
            "StartupScriptS3Path": STARTUP_KEY,
        }
        for key, name in (
            (PLUGINS_KEY, "PluginsS3ObjectVersion"),
            (REQUIREMENTS_KEY, "RequirementsS3ObjectVersion"),
            (STARTUP_KEY, "StartupScriptS3ObjectVersion"),
        ):
            if self.versions.get(key):
                settings[name] = self.versions[key]
        return settings


def _upload_if_changed(s3: Any, bucket: str, path: Path, key: str, remote: dict[str, str], result: DeployResult):
    # A single-part PutObject's ETag is the MD5 of the body; our files are far below the multipart threshold.
    if remote.get(key) == _md5(path):
        result.unchanged.append(key)
        return
    s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    result.uploaded.append(key)


def _delete(s3: Any, bucket: str, keys: list[str]) -> None:
    """Delete ``keys`` in batches; one by one where the store lacks DeleteObjects (S3Proxy rejects the
    checksum header the SDK must send with it)."""
    from botocore.exceptions import ClientError

    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
        batch = keys[start : start + 1000]
        try:
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NotImplemented":
                raise
            for key in batch:
                s3.delete_object(Bucket=bucket, Key=key)
            continue
        if response.get("Errors"):
            raise RuntimeError(f"could not delete {[e['Key'] for e in response['Errors']]}: {response['Errors'][0]}")


def deploy(dist: Path, bucket: str, s3: Any) -> DeployResult:
    """Sync ``dist`` to ``s3://bucket/``: changed files uploaded, DAG-folder files gone locally deleted."""
    missing = [n for n in ("dags", PLUGINS_KEY, REQUIREMENTS_KEY, STARTUP_KEY) if not (dist / n).exists()]
    if missing:
        raise FileNotFoundError(f"{dist} lacks {missing}: package the bundle first (make mwaa-package)")
    result = DeployResult(bucket=bucket)

    remote_dags = _remote_etags(s3, bucket, DAGS_PREFIX)
    local_dags = {
        DAGS_PREFIX + p.relative_to(dist / "dags").as_posix(): p
        for p in sorted((dist / "dags").rglob("*"))
        if p.is_file()
    }
    for key, path in local_dags.items():
        _upload_if_changed(s3, bucket, path, key, remote_dags, result)
    stale = sorted(set(remote_dags) - set(local_dags))
    _delete(s3, bucket, stale)
    result.deleted.extend(stale)

    for key in (PLUGINS_KEY, REQUIREMENTS_KEY, STARTUP_KEY):
        remote = _remote_etags(s3, bucket, key)
        _upload_if_changed(s3, bucket, dist / key, key, {k: v for k, v in remote.items() if k == key}, result)
        result.versions[key] = s3.head_object(Bucket=bucket, Key=key).get("VersionId")
        if result.versions[key] == "null":  # objects written before versioning was enabled
            result.versions[key] = None
    return result


def update_environment(mwaa: Any, name: str, result: DeployResult) -> dict:
    """Point environment ``name`` at the uploaded objects (MWAA then restarts its components)."""
    return mwaa.update_environment(Name=name, **result.environment_settings())


def _client(service: str, endpoint_env: str | None = None) -> Any:
    import boto3

    endpoint = os.environ.get(endpoint_env) if endpoint_env else None
    return boto3.client(service, endpoint_url=endpoint or None)


# ------------------------------------------------------------------------------------------------------- main


def main(argv: Iterable[str] | None = None, client: Callable[..., Any] = _client) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pkg = sub.add_parser("package", help="build dist/mwaa/")
    pkg.add_argument("--out", type=Path, default=DEFAULT_DIST)
    dep = sub.add_parser("deploy", help="upload dist/mwaa/ to s3://$MWAA_BUCKET/")
    dep.add_argument("--dist", type=Path, default=DEFAULT_DIST)
    dep.add_argument("--bucket", default=os.environ.get("MWAA_BUCKET"))
    dep.add_argument("--update-env", metavar="NAME", help="also call MWAA UpdateEnvironment for NAME")
    args = parser.parse_args(list(argv) if argv is not None else None)

    if args.command == "package":
        out = package(args.out)
        files = sum(1 for p in (out / "dags").rglob("*") if p.is_file())
        print(f"packaged {out}: dags/ ({files} files), {PLUGINS_KEY}, {REQUIREMENTS_KEY}, {STARTUP_KEY}")
        return 0

    if not args.bucket:
        parser.error("set MWAA_BUCKET (or --bucket) to the environment's S3 bucket")
    result = deploy(args.dist, args.bucket, client("s3", "S3_ENDPOINT_URL"))
    print(
        f"s3://{args.bucket}/: {len(result.uploaded)} uploaded, {len(result.deleted)} deleted, "
        f"{len(result.unchanged)} unchanged"
    )
    for key in result.uploaded:
        print(f"  uploaded {key}")
    for key in result.deleted:
        print(f"  deleted  {key}")
    settings = result.environment_settings()
    if not any(k.endswith("ObjectVersion") for k in settings):
        print("note: the bucket is not versioned; MWAA requires a versioned bucket for plugins/requirements")
    print("update-environment settings:")
    print(json.dumps(settings, indent=2, sort_keys=True))
    if args.update_env:
        response = update_environment(client("mwaa"), args.update_env, result)
        print(f"UpdateEnvironment {args.update_env}: {response.get('Arn', 'requested')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
