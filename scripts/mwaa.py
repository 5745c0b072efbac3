"""``make mwaa-package`` / ``make mwaa-deploy``: the MWAA bundle builder, kept in pinterest_infra.bundle."""

import sys

from pinterest_infra.bundle import main

if __name__ == "__main__":
    sys.exit(main())
