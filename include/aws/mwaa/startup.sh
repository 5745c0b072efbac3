#!/bin/sh
# Amazon MWAA startup script: runs on every Airflow component (scheduler, worker, web server) before
# requirements are installed and Airflow starts; the variables exported here reach every task.
#
# It only names things: profile, topic prefix, lake bucket, and the deployment facts the aws profile reads
# at run time (brokers, subnets, plugin ARN, ...). The bundle builder (pinterest_infra.bundle) fills the
# markers: the names from include/pinterest/settings.py, the facts from the stacks' outputs when
# `make aws-deploy` builds it. No secret belongs here: connections come from Secrets Manager (airflow/connections/*), AWS access from the
# execution role. AWS_DEFAULT_REGION is MWAA's own and is left alone.

export PINTEREST_PROFILE=aws
export PINTEREST_TOPIC_PREFIX="@@PINTEREST_TOPIC_PREFIX@@"
export PINTEREST_BUCKET="@@PINTEREST_BUCKET@@"
@@DEPLOYMENT_EXPORTS@@

# The local platform's endpoints must never leak into AWS: empty means "the real AWS endpoint".
unset S3_ENDPOINT_URL KINESIS_ENDPOINT_URL KAFKA_CONNECT_URL

echo "pinterest startup (${MWAA_AIRFLOW_COMPONENT:-unknown component}): profile=${PINTEREST_PROFILE}" \
     "prefix=${PINTEREST_TOPIC_PREFIX} bucket=${PINTEREST_BUCKET}"
