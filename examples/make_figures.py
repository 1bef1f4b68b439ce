"""Regenerate the README's figures by running every example.

``python examples/make_figures.py`` runs every ``examples/plot_*.py`` and
writes ``plot_NAME.py``'s figure to ``docs/NAME.png``; ``--out DIR`` writes
them to ``DIR`` instead. A new example joins by being there. The examples run
in this process with matplotlib's non-interactive Agg backend.
"""

import argparse
import runpy
import sys
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def find_examples(directory=EXAMPLES):
    """``{script name: figure file name}`` for every ``plot_*.py`` there."""
    return {
        script.name: f"{script.stem.removeprefix('plot_')}.png"
        for script in sorted(Path(directory).glob("plot_*.py"))
    }


FIGURES = find_examples()


def make_figures(out_dir, directory=EXAMPLES):
    """Run every example of ``directory`` with ``sys.argv = [script, out_dir /
    figure]``.

    Returns the paths written.
    """
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    saved_argv = sys.argv
    try:
        for script, figure in find_examples(directory).items():
            path = out_dir / figure
            sys.argv = [str(Path(directory) / script), str(path)]
            runpy.run_path(str(Path(directory) / script), run_name="__main__")
            plt.close("all")
            written.append(path)
    finally:
        sys.argv = saved_argv
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=ROOT / "docs", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    for path in make_figures(args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
