"""The README's Python example runs as written and says what it claims."""

import math
import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python example"
    namespace = {}
    with warnings.catch_warnings():
        # The sweep deliberately crosses 2/L: those candidates warn.
        warnings.simplefilter("ignore")
        exec(compile(blocks[0], str(README), "exec"), namespace)
    search = namespace["search"]
    scores = search.cv_results_["mean_test_score"]
    assert all(math.isfinite(s) for s in scores), "every candidate scores finitely"
    assert max(scores) > 0.45  # diabetes: LinearRegression's CV R² is about 0.48
    newton = namespace["newton"][-1]
    facts = namespace["facts"]
    assert abs(facts.max_stable - 2 * facts.auto) < 1e-12
    assert newton.n_iter_ == 1 and newton.learning_rate_ == 1.0


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
