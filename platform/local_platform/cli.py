"""``python -m local_platform {up,down,status,env,exec,run} [--instance dev|test|bench] [--services a,b]``.

``exec -- COMMAND...`` runs COMMAND with the instance's client environment; ``run`` is ``make run``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from local_platform import processes, services
from local_platform.environment import client_env
from local_platform.instance import INSTANCES, PlatformError, instance_for
from local_platform.services.airflow import login

SECRET_VARIABLES = ("INGEST_API_KEY", "AIRFLOW_CONN_")  # never printed by `env`


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_platform", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "env", "exec", "run"])
    parser.add_argument("--instance", choices=sorted(INSTANCES), default="dev")
    parser.add_argument("--services", help="comma-separated subset (default: what the instance starts)")
    parser.add_argument("--json", action="store_true", help="status as JSON")
    argv = sys.argv[1:] if argv is None else argv
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    instance = instance_for(args.instance)
    names = args.services.split(",") if args.services else services.autostarted(instance.name)
    if args.command in ("status", "down") and not args.services:
        names = list(services.SERVICES)  # on-demand services too: always shown and always stopped
    try:
        for name in names:
            services.get(name)
        if args.command == "up":
            print(f"Starting the {instance.name} platform (state: {instance.state})")
            processes.up(instance, names)
            if "airflow-api" in names:
                print(f"  Airflow UI: {login(instance)}")
        elif args.command == "down":
            processes.down(instance, names)
            print(f"Stopped the {instance.name} platform.")
        elif args.command == "status":
            return _print_status(instance, names, args.json)
        elif args.command == "exec":
            if not command:
                parser.error("exec needs a command after --")
            os.execvpe(command[0], command, {**os.environ, **client_env(instance)})
        elif args.command == "run":
            from local_platform.run import main as run_pipeline

            return run_pipeline()
        else:
            for key, value in client_env(instance).items():
                if not key.startswith(SECRET_VARIABLES):
                    print(f"export {key}={json.dumps(value)}")
    except PlatformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _print_status(instance, names: list[str], as_json: bool) -> int:
    rows = processes.status(instance, names)
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            crashes = f"restarts {row['restarts']}" + (
                f", last {row['last_exit']} at {row['last_exit_at']}" if row["last_exit"] else ""
            )
            print(f"  {row['service']:<22} {row['state']:<10} :{row['port'] or '-':<6} {crashes:<52} {row['log']}")
            if row["last_log"]:
                print("    " + row["last_log"].rstrip().replace("\n", "\n    "))
    # A service started on demand (the streaming job) may be stopped without the platform being unhealthy.
    autostarted = services.autostarted(instance.name)
    ok = all(r["state"] == "healthy" or (r["state"] == "stopped" and r["service"] not in autostarted) for r in rows)
    return 0 if ok else 3
