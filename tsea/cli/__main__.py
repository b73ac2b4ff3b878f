"""`python -m tsea.cli` runs the command line (same as the `tsea` console script)."""

import sys

from tsea.cli import main

sys.exit(main())
