import sys

from sgnet.cli import main

sys.exit(main())
