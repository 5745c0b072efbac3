"""One way to get a SparkSession with Delta Lake and S3A, locally and on Databricks.

On Databricks the runtime already provides Delta and S3 access, so the active session is returned untouched.
Locally the session resolves Delta and hadoop-aws from Maven Central into an Ivy cache inside the repository
(``.cache/ivy``) and points S3A at the local object store (``S3_ENDPOINT_URL``). Credentials are never put in
the Spark configuration: S3A reads them from the environment.

Lineage: when ``PINTEREST_LINEAGE_DIR`` is set (the local platform sets it), the OpenLineage Spark listener reports
every read and write to a JSON-lines file there, as a child of the Airflow task run that passed its identity in
the ``OPENLINEAGE_PARENT_*`` variables (see ``PARENT_RUN_CONF``). On Databricks the listener is cluster
configuration (include/aws/README.md).

``python -m include.pinterest.spark.session --prefetch`` resolves the jars once (for the setup step) and records
their paths in ``.cache/spark-jars.txt``: later sessions put those jars on the classpath directly instead of
resolving again (Ivy re-reads every module's metadata at each start: 5 to 30 s seen per ``spark-submit``).
``--submit NOTEBOOK ARGS...`` runs a notebook on the local platform's warm Spark runner (``SPARK_RUNNER_URL``), or
with ``spark-submit`` and the options it needs there (the JVM is then started before Python can add jars, so they
go on the command line).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import SparkSession

REPO_ROOT = Path(__file__).resolve().parents[3]
IVY_HOME = REPO_ROOT / ".cache" / "ivy"
# What the last prefetch resolved: a first line naming the packages and exclusions, then one jar path a line.
RESOLVED_JARS = REPO_ROOT / ".cache" / "spark-jars.txt"
# Spark's INFO output (thousands of lines a job, most of it the lineage listener's) stays out of task logs.
LOG4J2_CONF = Path(__file__).with_name("log4j2.properties")

DELTA_PACKAGE = "io.delta:delta-spark_4.1_2.13:4.4.0"
# hadoop-aws must match the hadoop-client-api jar pyspark 4.1.1 bundles (3.4.2); that release was built
# against AWS SDK v2 2.29.52. The SDK "bundle" (~600 MB) is excluded in favour of the S3 module.
HADOOP_AWS_PACKAGE = "org.apache.hadoop:hadoop-aws:3.4.2"
AWS_SDK_PACKAGES = ("software.amazon.awssdk:s3:2.29.52", "software.amazon.awssdk:s3-transfer-manager:2.29.52")
# pyspark already ships hadoop-client-api/runtime 3.4.2: do not put a second copy on the classpath.
EXCLUDED_PACKAGES = (
    "software.amazon.awssdk:bundle",
    "org.apache.hadoop:hadoop-client-api",
    "org.apache.hadoop:hadoop-client-runtime",
)
# The OpenLineage Spark listener (Scala 2.13 build; its Spark 4 support covers 4.1, see tests/pinterest/spark).
OPENLINEAGE_PACKAGE = "io.openlineage:openlineage-spark_2.13:1.53.0"
PACKAGES = (DELTA_PACKAGE, HADOOP_AWS_PACKAGE, *AWS_SDK_PACKAGES, OPENLINEAGE_PACKAGE)
# The Airflow task's OpenLineage identity (the provider's lineage_* macros), passed to the job as variables.
PARENT_RUN_CONF = {
    "spark.openlineage.parentJobNamespace": "OPENLINEAGE_PARENT_JOB_NAMESPACE",
    "spark.openlineage.parentJobName": "OPENLINEAGE_PARENT_JOB_NAME",
    "spark.openlineage.parentRunId": "OPENLINEAGE_PARENT_RUN_ID",
    "spark.openlineage.rootParentJobNamespace": "OPENLINEAGE_ROOT_PARENT_JOB_NAMESPACE",
    "spark.openlineage.rootParentJobName": "OPENLINEAGE_ROOT_PARENT_JOB_NAME",
    "spark.openlineage.rootParentRunId": "OPENLINEAGE_ROOT_PARENT_RUN_ID",
}


def on_databricks() -> bool:
    """Databricks sets DATABRICKS_RUNTIME_VERSION in every cluster process."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def s3a_conf(endpoint_url: str | None) -> dict[str, str]:
    """S3A options for a custom S3-compatible endpoint (path-style, plain HTTP when the URL says so)."""
    if not endpoint_url:
        return {}
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    return {
        "spark.hadoop.fs.s3a.endpoint": endpoint_url,
        "spark.hadoop.fs.s3a.endpoint.region": region,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint_url.startswith("https")).lower(),
        # Reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment: dummy values locally.
        "spark.hadoop.fs.s3a.aws.credentials.provider": (
            "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider"
        ),
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
    }


def lineage_conf(app_name: str) -> dict[str, str]:
    """The OpenLineage listener with a file transport, one file per application (the Java transport appends
    without locking, so two jobs never share a file); nothing when ``PINTEREST_LINEAGE_DIR`` is unset."""
    lineage_dir = os.environ.get("PINTEREST_LINEAGE_DIR")
    if not lineage_dir:
        return {}
    conf = {
        "spark.extraListeners": "io.openlineage.spark.agent.OpenLineageSparkListener",
        "spark.openlineage.namespace": os.environ.get("OPENLINEAGE_NAMESPACE", "default"),  # as Airflow's
        "spark.openlineage.transport.type": "file",
        "spark.openlineage.transport.location": str(Path(lineage_dir) / f"spark-{app_name}.jsonl"),
    }
    conf.update({key: os.environ[name] for key, name in PARENT_RUN_CONF.items() if os.environ.get(name)})
    return conf


def _packages_line() -> str:
    return f"packages={','.join(PACKAGES)} excludes={','.join(EXCLUDED_PACKAGES)}"


def resolved_jars() -> list[str] | None:
    """The jars the last prefetch resolved for exactly ``PACKAGES``, or None (then the session resolves them)."""
    try:
        packages, *jars = RESOLVED_JARS.read_text().splitlines()
    except FileNotFoundError:
        return None
    return jars if packages == _packages_line() and jars and all(Path(jar).is_file() for jar in jars) else None


def jars_conf() -> dict[str, str]:
    """The recorded jars when there are, else the packages for Ivy to resolve into ``.cache/ivy``."""
    jars = resolved_jars()
    if jars:
        return {"spark.jars": ",".join(jars)}
    return {
        "spark.jars.packages": ",".join(PACKAGES),
        "spark.jars.excludes": ",".join(EXCLUDED_PACKAGES),
        "spark.jars.ivy": str(IVY_HOME),
    }


def local_conf(app_name: str, lineage: bool = True) -> dict[str, str]:
    """Configuration of a local session: Delta, S3A, lineage (unless ``lineage`` is off), UTC, warnings only in
    the log, small memory and shuffle footprint."""
    conf = {
        **jars_conf(),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": os.environ.get("SPARK_DRIVER_MEMORY", "2g"),
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
        "spark.driver.extraJavaOptions": f"-Duser.timezone=UTC -Dlog4j2.configurationFile={LOG4J2_CONF}",
    }
    conf.update(s3a_conf(os.environ.get("S3_ENDPOINT_URL")))
    if lineage:
        conf.update(lineage_conf(app_name))
    return conf


def build_spark(app_name: str, extra_conf: dict | None = None, lineage: bool = True) -> SparkSession:
    """The session for a job: Databricks' own, or a local one configured by ``local_conf`` plus ``extra_conf``."""
    if on_databricks():
        return SparkSession.builder.getOrCreate()
    # Python workers must run this interpreter (the venv), not whatever python3 is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).master(os.environ.get("SPARK_MASTER", "local[2]"))
    for key, value in {**local_conf(app_name, lineage), **(extra_conf or {})}.items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    _check_delta_loaded(spark)
    return spark


def _check_delta_loaded(spark: SparkSession) -> None:
    """Under spark-submit the JVM starts before Python sets packages; fail with the fix instead of later."""
    if not spark._jvm.org.apache.spark.util.Utils.classIsLoadable("io.delta.tables.DeltaTable"):
        raise RuntimeError(
            "Delta Lake classes are not on the classpath. Run the notebook with "
            "`python -m include.pinterest.spark.session --submit NOTEBOOK ARGS...`."
        )


def submit_args(app_name: str) -> list[str]:
    """``spark-submit`` options equivalent to ``local_conf`` (packages must be known before the JVM starts)."""
    conf = local_conf(app_name)
    conf["spark.pyspark.python"] = conf["spark.pyspark.driver.python"] = sys.executable
    # A batch notebook's JVM lives for a minute: the quick JIT tier alone and one GC thread spend less CPU than
    # the optimising compiler would win back (about a quarter less CPU for the report job, measured).
    conf["spark.driver.extraJavaOptions"] += " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    args = ["--master", os.environ.get("SPARK_MASTER", "local[2]"), "--name", app_name]
    if "spark.jars" in conf:
        args += ["--jars", conf.pop("spark.jars")]
    else:
        args += ["--packages", conf.pop("spark.jars.packages"), "--exclude-packages", conf.pop("spark.jars.excludes")]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    return args


def ensure_jars() -> None:
    """Resolve the packages into the Ivy cache and record the jars, so later sessions start offline and without
    resolving."""
    RESOLVED_JARS.unlink(missing_ok=True)
    spark = build_spark("prefetch-jars")
    try:
        jars = [urlparse(uri).path for uri in spark.sparkContext.getConf().get("spark.jars").split(",") if uri]
    finally:
        spark.stop()
    RESOLVED_JARS.write_text("\n".join([_packages_line(), *jars]) + "\n")


def submit(app_name: str, notebook: str, arguments: list[str]) -> None:
    """Run the notebook on the warm runner at ``SPARK_RUNNER_URL`` (the local platform's ``spark`` service, see
    ``include.pinterest.spark.runner``) when one is set and answers; else replace this process with
    ``spark-submit`` of the notebook: this venv's, so it finds this venv's Spark."""
    runner_url = os.environ.get("SPARK_RUNNER_URL")
    if runner_url:
        from include.pinterest.spark.runner import run_remote

        code = run_remote(runner_url, notebook, app_name, arguments)
        if code is not None:
            sys.exit(code)
    bin_dir = Path(sys.executable).parent
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    spark_submit = str(bin_dir / "spark-submit")
    os.execv(spark_submit, [spark_submit, *submit_args(app_name), notebook, *arguments])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--prefetch", action="store_true", help="resolve the jars into .cache/ivy")
    group.add_argument(
        "--submit",
        metavar="NOTEBOOK",
        help="run NOTEBOOK on the warm runner or with spark-submit (arguments follow it)",
    )
    parser.add_argument("--app-name", default="spark-submit", help="with --submit: the application's name")
    args, notebook_arguments = parser.parse_known_args(argv)
    if args.prefetch:
        ensure_jars()
        print(f"jars resolved into {IVY_HOME}, listed in {RESOLVED_JARS}")
    else:
        submit(args.app_name, args.submit, notebook_arguments)


if __name__ == "__main__":
    main()
