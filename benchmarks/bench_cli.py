"""The CLI on a 1e6-row CSV against ``pandas.read_csv`` alone: time and peak memory.

Writes a CSV like a newcomer's (numbers with 1% gaps, a city column, a
boolean column, the target), then runs each contender in a fresh Python
process, so that its peak resident memory (``VmHWM``, Linux) is its own:

- ``pandas.read_csv(path)``, the floor of any reader built on pandas;
- the CLI's reader (``read_table``: sniffing, header check, ``read_csv``,
  thousands check, target), what replaced the hand-written loop;
- the whole CLI (``python -m onestep_sklearn --csv PATH --target price``):
  reading, preprocessing and 6 models x 5 folds.

Imports happen before each timer starts; memory is reported as the peak
resident set of the process and as its growth over the peak after the
imports (the CLI imports scikit-learn, read_csv alone does not). Ratios come
from one run of this script (the machine is shared). At 1e6 rows it takes
several minutes, most of them in ``SGDRegressor``'s hundreds of epochs.

    python benchmarks/bench_cli.py                 # 1e6 rows
    python benchmarks/bench_cli.py --rows 100000   # a smoke run
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import sklearn

# VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's
# resident size (kept across exec), VmHWM is the child's own high-water mark.
CHILD = """
import contextlib, io, json, sys, time

def high_water_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

{imports}
before = high_water_mib()
start = time.perf_counter()
stdout = io.StringIO()
with contextlib.redirect_stdout(stdout):
    {body}
seconds = time.perf_counter() - start
result = {{"seconds": seconds, "peak_mib": high_water_mib(), "imports_mib": before}}
print(json.dumps(dict(result, out=stdout.getvalue())))
"""

CONTENDERS = {
    "pandas.read_csv": ("import pandas", "pandas.read_csv(PATH)"),
    "CLI reader (read_table)": (
        "from onestep_sklearn._cli_read import read_table",
        "read_table(PATH, 'price')",
    ),
    "whole CLI (main)": (
        "from onestep_sklearn.__main__ import main",
        "main(['--csv', PATH, '--target', 'price'])",
    ),
}


def write_csv(path, n_rows, seed=0):
    """A house-price table of ``n_rows`` rows, with gaps in the numbers."""
    rng = np.random.default_rng(seed)
    sqft = rng.normal(1500, 300, n_rows).round(1)
    bedrooms = rng.integers(1, 6, n_rows)
    age = rng.uniform(0, 80, n_rows).round(2)
    lot = rng.lognormal(-1.5, 0.5, n_rows).round(4)
    distance = rng.uniform(0, 30, n_rows).round(3)
    city = rng.choice(["Austin", "Boston", "Chicago", "Denver", "Eugene"], n_rows)
    pool = rng.random(n_rows) < 0.3
    price = (
        100 * sqft
        + 5000 * bedrooms
        - 300 * age
        + 20000 * lot
        - 1000 * distance
        + np.where(city == "Boston", 50000, 0)
        + 20000 * pool
        + rng.normal(0, 5000, n_rows)
    ).round(2)
    frame = pd.DataFrame(
        {
            "sqft": sqft,
            "bedrooms": bedrooms,
            "age": age,
            "lot_acres": lot,
            "distance_km": distance,
            "city": city,
            "pool": pool,
            "price": price,
        }
    )
    for name in ["sqft", "age", "lot_acres"]:
        frame[name] = frame[name].mask(rng.random(n_rows) < 0.01)
    frame.to_csv(path, index=False)


def run(imports, body, path):
    """Run one contender in a fresh process; its seconds, peak MiB and stdout."""
    code = CHILD.format(imports=imports, body=body).replace("PATH", repr(path))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}, pandas {pd.__version__}, scikit-learn "
        f"{sklearn.__version__}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "houses.csv")
        write_csv(path, args.rows)
        size_mib = os.path.getsize(path) / 2**20
        print(f"file: {args.rows} rows x 8 columns, {size_mib:.1f} MiB\n")
        results = {}
        for name, (imports, body) in CONTENDERS.items():
            results[name], stderr = run(imports, body, path)
            if stderr.strip():
                print(f"[{name} stderr]\n{stderr.rstrip()}\n")

    base = results["pandas.read_csv"]
    base_growth = base["peak_mib"] - base["imports_mib"]
    print(
        "| contender | time (s) | × read_csv | peak RSS (MiB) | × read_csv "
        "| growth after imports (MiB) | × read_csv |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, result in results.items():
        growth = result["peak_mib"] - result["imports_mib"]
        print(
            f"| {name} | {result['seconds']:.2f} | "
            f"{result['seconds'] / base['seconds']:.2f} | "
            f"{result['peak_mib']:.0f} | {result['peak_mib'] / base['peak_mib']:.2f} "
            f"| {growth:.0f} | "
            + (f"{growth / base_growth:.2f} |" if base_growth > 0 else "n/a |")
        )
    print("\nthe CLI's output:\n")
    print(results["whole CLI (main)"]["out"])


if __name__ == "__main__":
    main()
