"""``python -m onestep_sklearn``: the command line of ``onestep_sklearn._cli``."""

import sys

from onestep_sklearn._cli import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    sys.exit(run())
