"""`python -m tsea` runs the command line (same as the `tsea` console script)."""

import sys

from tsea.cli import main

if __name__ == "__main__":
    sys.exit(main())
