"""Entry point for ``python -m devstack``."""

import sys

from devstack.cli import main

if __name__ == "__main__":
    sys.exit(main())
