"""python3 -m myquant: see myquant.cli."""

import sys

from .cli import main

sys.exit(main())
