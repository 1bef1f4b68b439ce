"""Regenerate the README's figures by running the examples.

``python examples/make_figures.py`` writes ``docs/learning_rate_sweep.png`` and
``docs/one_vs_many_steps.png``; ``--out DIR`` writes them to ``DIR`` instead.
The examples run in this process with matplotlib's non-interactive Agg backend.
"""

import argparse
import runpy
import sys
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# example script -> figure file name
FIGURES = {
    "plot_learning_rate_sweep.py": "learning_rate_sweep.png",
    "plot_one_vs_many_steps.py": "one_vs_many_steps.png",
}


def make_figures(out_dir):
    """Run every example with ``sys.argv = [script, out_dir / figure]``.

    Returns the paths written.
    """
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    saved_argv = sys.argv
    try:
        for script, figure in FIGURES.items():
            path = out_dir / figure
            sys.argv = [str(EXAMPLES / script), str(path)]
            runpy.run_path(str(EXAMPLES / script), run_name="__main__")
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
