import sys

from local_platform.cli import main

sys.exit(main())
