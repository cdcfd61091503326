"""A cell run before the cells it needs: say which cells to run, not only "NameError".

Every course notebook sets itself up in its first code cell (the imports, under the title), and
later cells use names that earlier cells make (``x``, ``network``, ...). A student who opens a
notebook in the middle and runs an explorer first meets a bare ``NameError``. Importing
``pooling_lib.course`` inside IPython adds a hint under that error (the error itself stays as it
was); outside IPython nothing happens. Explorer cells import what they call, so the import
happens even in a cell run first.
"""
import sys

HINT = ("Hint: {name} is made by an earlier cell of this notebook. Run the setup cell at the top "
        "(the code cell that starts with %matplotlib inline) and the cells above this one "
        "(menu Run ▸ Run All Above Selected Cell), then run this cell again. If {name} is a name "
        "of your own, check its spelling.")


def hint(error):
    """The hint for a ``NameError`` (``None`` for other errors)."""
    name = getattr(error, "name", None)
    if not isinstance(error, NameError) or not name:
        return None
    return HINT.format(name=f"`{name}`")


def _show_with_hint(shell, etype, value, tb, tb_offset=None):
    """IPython's custom handler for NameError: the usual traceback, then the hint."""
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    text = hint(value)
    if text:
        print(text)


def install():
    """Add the hint to NameErrors in the running IPython shell, once; no-op outside IPython."""
    ipython = sys.modules.get("IPython")      # loaded already when we run inside IPython
    shell = ipython.get_ipython() if ipython else None
    if shell is None:
        return False
    if getattr(shell, "CustomTB", None) is not None and NameError in shell.custom_exceptions:
        return True
    shell.set_custom_exc((NameError,), _show_with_hint)
    return True
