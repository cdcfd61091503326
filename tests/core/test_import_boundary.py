"""The core is NumPy only: importing it pulls in no plotting, widgets or wings, the readable
loops in ``reference`` stand apart from the fast code, and ``import pooling_lib`` stays quick."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pooling_lib

CORE = ["pooling_lib", "pooling_lib.geometry", "pooling_lib.reference", "pooling_lib.fast",
        "pooling_lib._engine", "pooling_lib.im2col", "pooling_lib.adaptive", "pooling_lib.pool1d",
        "pooling_lib.layers", "pooling_lib.gradcheck"]
FORBIDDEN = ["matplotlib", "ipywidgets", "sklearn", "scipy", "IPython"]
WINGS = ["pooling_lib.cnn", "pooling_lib.course"]
PACKAGE = Path(pooling_lib.__file__).resolve().parent
IMPORT_BUDGET = 0.100  # seconds for `import pooling_lib`, on top of NumPy's own import


def modules_after(code):
    """The names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=PACKAGE.parent)
    return json.loads(done.stdout.splitlines()[-1])


def test_the_core_imports_no_plotting_widgets_or_wings():
    loaded = modules_after("\n".join(f"import {name}" for name in CORE))
    assert set(CORE) <= set(loaded)
    heavy = [m for m in loaded if m.split(".")[0] in FORBIDDEN
             or any(m == wing or m.startswith(wing + ".") for wing in WINGS)]
    assert not heavy, f"importing the core loads {heavy}"


def test_importing_reference_pulls_in_no_fast_code():
    # `import pooling_lib.reference` runs the package's __init__ first, which imports everything,
    # so an empty package over the same folder stands in for it: what gets loaded then is what
    # reference.py itself imports
    loaded = modules_after("import sys, types\n"
                           "package = types.ModuleType('pooling_lib')\n"
                           f"package.__path__ = [{str(PACKAGE)!r}]\n"
                           "sys.modules['pooling_lib'] = package\n"
                           "import pooling_lib.reference")
    assert {"pooling_lib.reference", "pooling_lib.geometry"} <= set(loaded)
    assert not {"pooling_lib.fast", "pooling_lib._engine"} & set(loaded)


def imported_modules(path):
    """Every module a Python file imports, relative imports written as ``.name``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            if not node.module:  # from . import fast
                names |= {base + alias.name for alias in node.names}
    return names


def test_reference_imports_only_geometry_and_numpy():
    names = imported_modules(PACKAGE / "reference.py")
    assert not {n for n in names if n.lstrip(".").split(".")[-1] in ("fast", "_engine")}
    assert names <= {"numpy", ".geometry"}, names


def test_import_pooling_lib_is_quick():
    # NumPy is the core's one dependency and its own import time is the machine's, not ours:
    # it is imported first, then `import pooling_lib` alone is timed (best of 3 fresh interpreters)
    script = ("import time, numpy\n"
              "start = time.perf_counter()\n"
              "import pooling_lib\n"
              "print(time.perf_counter() - start)")
    times = [float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                  check=True, cwd=PACKAGE.parent).stdout)
             for _ in range(3)]
    assert min(times) < IMPORT_BUDGET, f"import pooling_lib took {min(times) * 1e3:.0f} ms"
