"""Entry point for ``python -m devstack``."""

import sys

try:
    from devstack.cli import main
except KeyboardInterrupt:  # Ctrl-C while still importing: nothing has been started yet
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())
