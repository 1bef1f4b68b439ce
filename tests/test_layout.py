"""The layering of the package, checked on its source.

kernel → data seam → solvers → estimators: imports point down only (lazy
imports inside functions included), there is no import cycle, only the
compatibility module imports private scikit-learn names, the kernel imports
no scikit-learn at all, and no module is over 400 lines.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "onestep_sklearn"
# What each layer may import from the package (besides itself).
LAYERS = {
    "_kernel": set(),
    "_data": {"_kernel", "_compat"},
    "_solvers": {"_kernel", "_data"},
}
ESTIMATOR_MODULES = {"_base", "_one_step", "_iterative", "_cv", "__init__"}


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """Every module imported by ``path`` (absolute names), at any depth."""
    tree = ast.parse(path.read_text())
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.append((base, alias.name))
    return found


def package_targets(path):
    """The package modules ``path`` imports (a name imported from a
    package that is itself a module counts as that module)."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    targets = set()
    for base, name in imports_of(path):
        if not base.startswith("onestep_sklearn"):
            continue
        candidate = f"{base}.{name}" if name else base
        targets.add(candidate if candidate in modules else base)
    return targets - {module_name(path)}


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_there_is_no_import_cycle():
    graph = {module_name(p): package_targets(p) for p in SOURCES}
    # Importing a submodule imports its package first: an edge to it.
    for name in list(graph):
        if "." in name[len("onestep_sklearn.") :]:
            graph[name].add(name.rsplit(".", 1)[0])
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for target in graph.get(node, ()):
            if target == "onestep_sklearn" or node.startswith(target + "."):
                # A package's __init__ re-exports its submodules (the package
                # and plotting/): the edge up to an enclosing package is no cycle.
                continue
            if state.get(target) == "open":
                raise AssertionError(" -> ".join(trail + [node, target]))
            if target not in state:
                visit(target, trail + [node])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_imports_point_down(path):
    name = module_name(path)
    layer = name.split(".")[1] if name.count(".") else None
    if layer not in LAYERS:
        return
    for target in package_targets(path):
        target_layer = target.split(".")[1]
        assert target_layer == layer or target_layer in LAYERS[layer], (
            f"{name} (layer {layer}) imports {target}"
        )
        assert target_layer not in ESTIMATOR_MODULES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_private_scikit_learn_imports_only_in_compat(path):
    name = module_name(path)
    for base, imported in imports_of(path):
        if not base.startswith("sklearn"):
            continue
        if name.startswith("onestep_sklearn._kernel"):
            raise AssertionError(f"{name}: the kernel imports scikit-learn ({base})")
        private = any(part.startswith("_") for part in base.split(".")) or (
            imported or ""
        ).startswith("_")
        if private:
            assert name == "onestep_sklearn._compat", (
                f"{name} imports {base}.{imported}"
            )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_modules_are_short(path):
    assert len(path.read_text().splitlines()) <= 400


# The front ends (plotting/ and the CLI in _cli/) see the package as users
# do (its public names), plus the kernel (statistics, rates, spectrum) and
# the scikit-learn shim; the CLI also uses plotting (its --plot figure).
# One private hook more for plotting: ``_solvers.descent.recording_path``,
# the per-iteration record of a real fit that a trajectory replays
# (mini-batches, schedules and stopping included, so no second
# implementation of the loop is needed).
FRONT_ENDS_MAY_IMPORT = {
    "plotting": {"onestep_sklearn._kernel", "onestep_sklearn._compat"},
    "_cli": {
        "onestep_sklearn._kernel",
        "onestep_sklearn._compat",
        "onestep_sklearn.plotting",
    },
}
FRONT_END_PRIVATE_HOOKS = {
    "plotting": {("onestep_sklearn._solvers.descent", "recording_path")},
    "_cli": {("onestep_sklearn", "__version__")},
}
FRONT_END_SOURCES = [
    (front_end, path)
    for front_end in FRONT_ENDS_MAY_IMPORT
    for path in sorted((PACKAGE / front_end).rglob("*.py"))
]


def test_front_ends_are_subpackages():
    assert not (PACKAGE / "plotting.py").exists()
    assert not list(PACKAGE.glob("_display_*.py"))
    assert not list(PACKAGE.glob("_cli_*.py"))
    plotting = {p.name for front_end, p in FRONT_END_SOURCES if front_end == "plotting"}
    assert plotting >= {"__init__.py", "_display_loss.py"}
    cli = {p.name for front_end, p in FRONT_END_SOURCES if front_end == "_cli"}
    assert cli >= {"__init__.py", "command.py", "read.py", "table.py"}
    # ``python -m onestep_sklearn`` only hands over to the CLI package.
    main = imports_of(PACKAGE / "__main__.py")
    assert {base for base, _ in main if base.startswith("onestep_sklearn")} == {
        "onestep_sklearn._cli"
    }


@pytest.mark.parametrize(
    "front_end, path",
    FRONT_END_SOURCES,
    ids=lambda value: value if isinstance(value, str) else module_name(value),
)
def test_front_ends_import_public_names_and_the_kernel_only(front_end, path):
    import onestep_sklearn

    own = f"onestep_sklearn.{front_end}"
    for base, name in imports_of(path):
        if not base.startswith("onestep_sklearn") or base == own or (
            base.startswith(own + ".")
        ):
            continue
        where = f"{module_name(path)} imports {base}.{name}"
        if (base, name) in FRONT_END_PRIVATE_HOOKS[front_end]:
            continue
        if base == "onestep_sklearn":
            assert name in onestep_sklearn.__all__, where
        else:
            assert any(
                base == allowed or base.startswith(allowed + ".")
                for allowed in FRONT_ENDS_MAY_IMPORT[front_end]
            ), where


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_nothing_below_the_front_ends_imports_them(path):
    name = module_name(path)
    layer = name.split(".")[1] if name.count(".") else "__init__"
    if layer in ("plotting", "__main__", "_cli"):
        return
    targets = package_targets(path)
    for front_end in ("onestep_sklearn.plotting", "onestep_sklearn._cli"):
        assert not any(t.startswith(front_end) for t in targets), name
