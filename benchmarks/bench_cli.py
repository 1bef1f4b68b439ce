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
    python benchmarks/bench_cli.py --onehot        # issue 22's one-hot tables

``--onehot`` (issue 22, item 3): ``python -m onestep_sklearn`` as a user runs
it (a fresh interpreter, imports included) on a 1,500-row table of 5 numeric
and 21 categorical columns (about 900 one-hot model features) and on an
80-row table of 3 numeric and 6 categorical columns, idle and then beside four
CPU-bound processes (started and stopped here, as in ``bench_onehot.py``).
Goals: every row on the wide table in ≤ 10 s together, the 80-row table in
≤ 3 s, at most twice that busy, with a progress line meanwhile. The time of
each row is read from the progress lines (printed once a run has taken 2 s).
"""

import argparse
import contextlib
import json
import os
import platform
import re
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
        "from onestep_sklearn._cli.read import read_table",
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


def categorical_table(n_rows, n_numeric, n_categorical, n_levels, seed=0):
    """Numbers beside categories with rare levels (Pareto frequencies), y."""
    rng = np.random.default_rng(seed)
    columns, signal = {}, np.zeros(n_rows)
    for j in range(n_numeric):
        values = rng.normal(size=n_rows)
        columns[f"x{j}"] = values.round(4)
        signal += rng.normal() * values
    for j in range(n_categorical):
        freq = rng.pareto(1.0, n_levels) + 0.02
        codes = rng.choice(n_levels, n_rows, p=freq / freq.sum())
        columns[f"c{j}"] = np.array([f"L{code}" for code in codes])
        signal += rng.normal(size=n_levels)[codes]
    columns["y"] = (signal + rng.normal(size=n_rows)).round(4)
    return pd.DataFrame(columns)


def run_cli(path):
    """``python -m onestep_sklearn --csv path --target y``: seconds, the
    seconds of each row (from the progress lines) and whether one came."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "onestep_sklearn", "--csv", path, "--target", "y"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    marks = re.findall(r"^(.*) \((\d+\.\d) s elapsed\)$", proc.stderr, re.M)
    rows = {}
    first = [float(at) for label, at in marks if label.startswith("[1/")]
    if first:
        rows["(reading, L and the near-collinear check)"] = (0.0, first[0])
    for (label, at), (_, after) in zip(marks, marks[1:] + [("end", None)]):
        if label.startswith("["):
            end = float(after) if after is not None else None
            rows[label.split("cross-validating ")[-1]] = (float(at), end)
    return seconds, rows, bool(marks)


def onehot_main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_onehot import Busy

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}, scikit-learn {sklearn.__version__}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    with tempfile.TemporaryDirectory() as directory:
        tables = {
            "1500 rows, 5 numeric + 21 categorical": categorical_table(1500, 5, 21, 50),
            "80 rows, 3 numeric + 6 categorical": categorical_table(80, 3, 6, 10, 1),
        }
        paths = {}
        for name, frame in tables.items():
            paths[name] = os.path.join(directory, f"{len(frame)}.csv")
            frame.to_csv(paths[name], index=False)
        for state in ["idle", "busy"]:
            context = Busy() if state == "busy" else contextlib.nullcontext()
            with context:
                for name, path in paths.items():
                    load = os.getloadavg()[0]
                    seconds, rows, progress = run_cli(path)
                    print(
                        f"\n{name}, {state} (load {load:.1f}): {seconds:.1f} s in "
                        f"all, progress lines: {'yes' if progress else 'none'}"
                    )
                    for call, (start, end) in rows.items():
                        took = f"{end - start:.1f} s" if end is not None else "(last)"
                        print(f"  {call:<58} {took}")


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
    parser.add_argument("--onehot", action="store_true")
    args = parser.parse_args()
    if args.onehot:
        onehot_main()
        return

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
