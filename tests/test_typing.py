"""The public API is typed: every public signature annotated, mypy clean on
the package (the public modules with every def annotated, pyproject's
``[tool.mypy]``), ``py.typed`` shipped, and the annotations useful to a
user's type checker (``fit`` returns the estimator's own type, a misspelt
option is an error before anything runs)."""

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import onestep_sklearn
import onestep_sklearn.plotting

try:
    import tomllib
except ImportError:  # Python 3.10: mypy installs tomli there
    import tomli as tomllib

pytest.importorskip("mypy", reason="mypy is in the test extra")

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = [(onestep_sklearn, name) for name in onestep_sklearn.__all__] + [
    (onestep_sklearn.plotting, name) for name in onestep_sklearn.plotting.__all__
]


def public_callables():
    """``(qualified name, callable)`` of every public function, class
    constructor and public method (inherited ones from this package too)."""
    for module, name in PUBLIC:
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj
        elif inspect.isclass(obj):
            for klass in obj.__mro__:
                if not klass.__module__.startswith("onestep_sklearn"):
                    continue
                for attr, value in vars(klass).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if isinstance(value, (classmethod, staticmethod)):
                        value = value.__func__
                    if inspect.isfunction(value):
                        yield f"{name}.{attr}", value


def defining_modules():
    """The modules that define a public name or a method a public class has."""
    modules = {function.__module__ for _, function in public_callables()}
    for module, name in PUBLIC:
        obj = getattr(module, name)
        if inspect.isclass(obj):
            modules.add(obj.__module__)
    return modules


def run_mypy(*args, cache_dir):
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mypy_cache")


def test_every_public_signature_is_annotated():
    found = dict(public_callables())
    assert {"IterativeGDRegressor.fit", "LossCurveDisplay.from_estimator"} <= set(found)
    missing = []
    for qualname, function in found.items():
        # Through the decorators (functools.wraps): the signature users see.
        signature = inspect.signature(function)
        for parameter in list(signature.parameters.values()):
            if parameter.name in ("self", "cls"):
                continue
            if parameter.annotation is inspect.Parameter.empty:
                missing.append(f"{qualname}({parameter.name})")
        if signature.return_annotation is inspect.Signature.empty:
            missing.append(f"{qualname} -> ?")
    assert not missing, f"not annotated: {missing}"


def test_mypy_requires_annotations_in_every_public_module():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    strict = set()
    for override in config["overrides"]:
        if override.get("disallow_untyped_defs") and override.get(
            "disallow_incomplete_defs"
        ):
            strict.update(override["module"])
    unchecked = defining_modules() - strict
    assert not unchecked, (
        f"add {sorted(unchecked)} to the strict [[tool.mypy.overrides]] of "
        "pyproject.toml: they define public names or methods"
    )


def test_mypy_is_clean_on_the_package(mypy_cache):
    result = run_mypy("-p", "onestep_sklearn", cache_dir=mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found" in result.stdout


def test_py_typed_is_shipped():
    package = Path(onestep_sklearn.__file__).parent
    assert (package / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["onestep_sklearn"]


USER_CODE = """
    import numpy as np
    from onestep_sklearn import (
        IterativeGDRegressor,
        IterativeGDRegressorCV,
        OneStepRegressor,
        suggest_learning_rate,
    )
    from onestep_sklearn.plotting import LossCurveDisplay

    X, y = np.zeros((4, 2)), np.zeros(4)
    reveal_type(IterativeGDRegressor().fit(X, y))
    reveal_type(OneStepRegressor().partial_fit(X, y))
    reveal_type(IterativeGDRegressorCV(cv=3).fit(X, y))
    reveal_type(suggest_learning_rate(X).max_stable)
    reveal_type(LossCurveDisplay.from_estimator(IterativeGDRegressor().fit(X, y)))
    OneStepRegressor(solver="newtn")
    IterativeGDRegressor().fit(X, y, sample_weights=None)
"""


def test_a_users_type_checker_sees_the_types(tmp_path, mypy_cache):
    user = tmp_path / "user_code.py"
    user.write_text(textwrap.dedent(USER_CODE))
    result = run_mypy(str(user), cache_dir=mypy_cache)
    out = result.stdout
    revealed = [
        # mypy < 2 writes "builtins.float", later ones "float".
        line.split("Revealed type is ")[1].strip('"').removeprefix("builtins.")
        for line in out.splitlines()
        if "Revealed type is" in line
    ]
    assert revealed == [
        "onestep_sklearn._iterative.IterativeGDRegressor",
        "onestep_sklearn._one_step.OneStepRegressor",
        "onestep_sklearn._cv.IterativeGDRegressorCV",
        "float",
        "onestep_sklearn.plotting._display_loss.LossCurveDisplay",
    ], out
    # The misspelt option and keyword are errors, each on its own line.
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 2, out
    assert "newtn" in errors[0] and "solver" in errors[0], out
    assert "sample_weights" in errors[1], out
