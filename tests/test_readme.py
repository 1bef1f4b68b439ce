"""The README and the user guide: every Python example runs as written and says
what it claims; the Quick start has its two command lines."""

import math
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = ROOT / "doc" / "guide"


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def run(code, path, namespace=None):
    namespace = {} if namespace is None else namespace
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sweeps cross 2/L on purpose
        exec(compile(code, str(path), "exec"), namespace)
    return namespace


def test_readme_python_example_runs():
    (block,) = python_blocks(README)
    namespace = run(block, README)
    assert namespace["newton"].n_iter_ == 1 and namespace["newton"].learning_rate_ == 1
    facts = namespace["facts"]
    assert abs(facts.max_stable - 2 * facts.auto) < 1e-12
    gd = namespace["gd"]
    assert gd.stop_reason_ == "converged"
    assert gd.coef_ == pytest.approx(namespace["newton"].coef_, rel=1e-3, abs=1e-3)
    assert namespace["sweep"].n_iter_ >= 1


def test_guide_first_session_runs():
    blocks = python_blocks(GUIDE / "intro.md")
    assert blocks, "the guide's first session has no python example"
    namespace = run(blocks[0], GUIDE / "intro.md")
    search = namespace["search"]
    scores = search.cv_results_["mean_test_score"]
    assert all(math.isfinite(s) for s in scores), "every candidate scores finitely"
    assert max(scores) > 0.45  # diabetes: LinearRegression's CV R² is about 0.48
    newton = namespace["newton"][-1]
    facts = namespace["facts"]
    assert abs(facts.max_stable - 2 * facts.auto) < 1e-12
    assert newton.n_iter_ == 1 and newton.learning_rate_ == 1.0


def test_readme_links_into_the_guide_resolve():
    links = re.findall(r"\]\((doc/[^)]+)\)", README.read_text(encoding="utf-8"))
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).is_file(), link
    images = re.findall(r"!\[[^\]]*\]\((docs/[^)]+)\)", README.read_text())
    assert len(images) >= 3
    for image in images:
        assert (ROOT / image).is_file(), image


def test_readme_is_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 150


def test_quick_start_has_exactly_two_command_lines():
    text = README.read_text()
    section = text.split("## Quick start", 1)[1]
    block = section.split("```", 2)[1]
    lines = [
        line
        for line in block.splitlines()[1:]
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) == 2
    assert "python -m onestep_sklearn" in lines[0]
    assert "pytest" in lines[1]
