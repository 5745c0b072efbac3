import sys

from local_platform.control import main

sys.exit(main())
