"""The command line, ``python -m onestep_sklearn`` (a front end).

``command`` parses the arguments and runs the comparison; ``read`` reads a
delimited file, ``columns`` builds the preprocessing, ``table`` cross-validates
every model into one table, ``collinear`` writes the footnote for
near-singular folds and ``plot`` the optional figure. Like ``plotting/``,
it imports the package's public names and the kernel, and nothing below the
front ends imports it (``tests/test_layout.py``).
"""

from onestep_sklearn._cli.command import main, run

__all__ = ["main", "run"]
