"""One way to get a SparkSession with Delta Lake and S3A, locally and on Databricks.

On Databricks the runtime already provides Delta and S3 access, so the active session is returned untouched.
Locally the session resolves Delta and hadoop-aws from Maven Central into an Ivy cache inside the repository
(``.cache/ivy``) and points S3A at the local object store (``S3_ENDPOINT_URL``). Credentials are never put in
the Spark configuration: S3A reads them from the environment.

``python -m include.pinterest.spark.session --prefetch`` resolves the jars once (for the setup step);
``--submit-args`` prints the ``spark-submit`` options a notebook needs when launched by ``spark-submit``
(the JVM is then started before Python can add packages).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

REPO_ROOT = Path(__file__).resolve().parents[3]
IVY_HOME = REPO_ROOT / ".cache" / "ivy"

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
PACKAGES = (DELTA_PACKAGE, HADOOP_AWS_PACKAGE, *AWS_SDK_PACKAGES)


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


def local_conf() -> dict[str, str]:
    """Configuration of a local session: Delta, S3A, UTC, small memory and shuffle footprint."""
    conf = {
        "spark.jars.packages": ",".join(PACKAGES),
        "spark.jars.excludes": ",".join(EXCLUDED_PACKAGES),
        "spark.jars.ivy": str(IVY_HOME),
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
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    }
    conf.update(s3a_conf(os.environ.get("S3_ENDPOINT_URL")))
    return conf


def build_spark(app_name: str, extra_conf: dict | None = None) -> SparkSession:
    """The session for a job: Databricks' own, or a local one configured by ``local_conf`` plus ``extra_conf``."""
    if on_databricks():
        return SparkSession.builder.getOrCreate()
    # Python workers must run this interpreter (the venv), not whatever python3 is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).master(os.environ.get("SPARK_MASTER", "local[2]"))
    for key, value in {**local_conf(), **(extra_conf or {})}.items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    _check_delta_loaded(spark)
    return spark


def _check_delta_loaded(spark: SparkSession) -> None:
    """Under spark-submit the JVM starts before Python sets packages; fail with the fix instead of later."""
    if not spark._jvm.org.apache.spark.util.Utils.classIsLoadable("io.delta.tables.DeltaTable"):
        raise RuntimeError(
            "Delta Lake classes are not on the classpath. Under spark-submit pass the options printed by "
            "`python -m include.pinterest.spark.session --submit-args`."
        )


def submit_args() -> list[str]:
    """``spark-submit`` options equivalent to ``local_conf`` (packages must be known before the JVM starts)."""
    conf = local_conf()
    conf["spark.pyspark.python"] = conf["spark.pyspark.driver.python"] = sys.executable
    args = [
        "--master",
        os.environ.get("SPARK_MASTER", "local[2]"),
        "--packages",
        conf.pop("spark.jars.packages"),
        "--exclude-packages",
        conf.pop("spark.jars.excludes"),
    ]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    return args


def ensure_jars() -> None:
    """Resolve Delta and hadoop-aws into the Ivy cache once, so later sessions start offline."""
    build_spark("prefetch-jars").stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--prefetch", action="store_true", help="resolve the jars into .cache/ivy")
    group.add_argument("--submit-args", action="store_true", help="print spark-submit options")
    args = parser.parse_args(argv)
    if args.prefetch:
        ensure_jars()
        print(f"jars resolved into {IVY_HOME}")
    else:
        # Unquoted on purpose, for `spark-submit $(python -m ... --submit-args) ...`: no value holds a space.
        print(" ".join(submit_args()))


if __name__ == "__main__":
    main()
