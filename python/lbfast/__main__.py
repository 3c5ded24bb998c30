"""``python -m lbfast``: the ``lbfast`` command (see ``lbfast.cli``)."""

import sys

from lbfast.cli import main

if __name__ == "__main__":
    sys.exit(main())
