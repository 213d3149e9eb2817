"""`python -m sgnet`: the command line (sgnet.cli)."""

import sys

from sgnet.cli import main

sys.exit(main())
