"""The lesson notebook runs top to bottom on a real Jupyter kernel, and every
figure it draws has a title and labelled axes."""

import base64
import io
import json
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "lesson_gradient_descent.ipynb"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ORDER = (
    "objective",
    "one step",
    "many steps",
    "the limit",
    "momentum",
    "the sweep",
    "the exact step",
)

# Run first in the kernel: after every cell (before the inline backend shows
# and closes the figures, which it registers later, on the first pyplot import),
# record the title and axis labels of every axes of every open figure.
CHECKER = """
import matplotlib.pyplot as _plt
_figures_seen = []

def _record_figures():
    for number in _plt.get_fignums():
        figure = _plt.figure(number)
        _figures_seen.append([
            (ax.get_title() or figure.get_suptitle(), ax.get_xlabel(), ax.get_ylabel())
            for ax in figure.axes
            if ax.axison and ax.get_label() != "<colorbar>"
        ])

get_ipython().events.register("post_execute", _record_figures)
"""
REPORT = "import json; print(json.dumps(_figures_seen))"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    n_cells = len(notebook.cells)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(CHECKER))
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT))
    environment = {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)  # the kernel inherits them
    try:
        # No cell takes more than a few seconds. Once, under load, a kernel sat
        # idle while the client waited for a reply that never came (kernel and
        # client both idle): a stuck run is cut after two minutes and run once
        # more on a fresh kernel, from a fresh copy of the notebook.
        for attempt in range(2):
            run = nbformat.from_dict(json.loads(json.dumps(notebook)))
            where = str(tmp_path_factory.mktemp("lesson"))
            client = nbclient.NotebookClient(
                run,
                timeout=120,
                kernel_name="python3",
                resources={"metadata": {"path": where}},
            )
            try:
                client.execute()
                break
            except (TimeoutError, RuntimeError):  # a cell, or the kernel's start
                if attempt == 1:
                    raise
        notebook = run
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook, n_cells


def outputs(notebook, kind):
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if kind in output.get("data", {})
    ]


def test_the_notebook_teaches_in_order():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert len(notebook.cells) >= 30
    headings = [
        line.lower()
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    positions = [
        next(i for i, heading in enumerate(headings) if topic in heading)
        for topic in ORDER
    ]
    assert positions == sorted(positions)
    assert all(
        not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"
    ), "commit the notebook without outputs"


def test_the_notebook_runs_and_every_figure_is_titled_and_labelled(executed):
    notebook, _ = executed
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", cell.source
            if output.output_type == "stream" and output.name == "stderr":
                assert "Warning" not in output.text, output.text
    images = outputs(notebook, "image/png")
    report = notebook.cells[-1].outputs[0].text
    figures = json.loads(report)
    # The checker saw every figure the inline backend showed (a figure shown
    # and closed before the end of its cell would escape it: none may be).
    assert len(figures) == len(images) >= 12
    for axes in figures:
        assert axes
        for title, x_label, y_label in axes:
            assert title and x_label and y_label, axes
    for image in images:
        data = base64.b64decode(image["data"]["image/png"])
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
        pixels = plt.imread(io.BytesIO(data))  # not a blank canvas
        assert (
            len(
                {
                    tuple(px)
                    for px in pixels[::9, ::9].reshape(
                        -1, 3 if pixels.shape[2] == 3 else 4
                    )
                }
            )
            > 30
        )


def test_the_notebook_animates_and_offers_sliders(executed, tmp_path):
    notebook, _ = executed
    (html,) = [o for o in outputs(notebook, "text/html") if "anim" in str(o["data"])]
    assert "<img" in html["data"]["text/html"] or "frames" in html["data"]["text/html"]
    widgets = outputs(notebook, "application/vnd.jupyter.widget-view+json")
    assert widgets, "the explorer shows its sliders"
    texts = " ".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )
    assert "bias after one step: 3.0427 by hand: 3.0427" in texts
    assert "diverges" in texts and "2/L" in texts
