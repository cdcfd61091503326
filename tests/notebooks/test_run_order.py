"""A student who runs an explorer cell first, before anything else, gets the explorer, or an
error that says which cells to run; never a bare NameError. Each explorer cell runs alone in
a fresh kernel, as in a notebook just opened."""
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pooling_lib.course import run_order, widgets

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXPLORER = re.compile(r"^[^#\n]*\b(" + "|".join(m.__name__ for m in widgets.EXPLORERS) + r")\s*\(",
                      re.MULTILINE)
WIDGET = "application/vnd.jupyter.widget-view+json"


def explorer_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells
            if c.cell_type == "code" and EXPLORER.search(c.source)]


def run_alone(cell, folder):
    """The outputs of ``cell`` run as the first and only cell of a fresh kernel."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell.source)])
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb.cells[0].outputs


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if explorer_cells(p)], ids=lambda p: p.stem)
def test_an_explorer_cell_run_first(path):
    for cell in explorer_cells(path):
        outputs = run_alone(cell, path.parent)
        errors = [o for o in outputs if o.output_type == "error"]
        printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        if re.search(r"\w+_(explorer|stepper)\(\)", cell.source):     # needs nothing from before
            assert not errors, f"{path.stem}: {errors[0].ename}: {errors[0].evalue}"
            assert any(WIDGET in o.get("data", {}) for o in outputs), f"{path.stem}: no explorer"
        else:                                                           # needs earlier cells
            assert [e.ename for e in errors] == ["NameError"], path.stem
            assert "Run the setup cell at the top" in printed and "Run All Above" in printed


def test_the_hint_names_the_missing_name_and_only_for_name_errors():
    try:
        network  # noqa: F821  (undefined on purpose)
    except NameError as error:
        assert "`network` is made by an earlier cell" in run_order.hint(error)
    assert run_order.hint(ValueError("x")) is None


def test_outside_ipython_nothing_is_installed():
    assert run_order.install() is False
