"""Binder: what repo2docker builds from binder/, and the README's launch badge.

``repo2docker --no-build`` only writes the Dockerfile it would build, so no Docker daemon is
needed (the test points DOCKER_HOST at nothing to make sure). The user is set as on
mybinder.org (jovyan, uid 1000): repo2docker defaults to the uid of whoever runs it.
"""
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pooling_lib.course import navigation
from pooling_lib.course.repo import repository

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"



def requirement_lines(file, seen=()):
    """The requirement lines of a pip requirements ``file``, following ``-r`` (relative to the
    file, as pip does): ``[(file, line)]`` without comments and blank lines."""
    lines = []
    for raw in Path(file).read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        nested = re.fullmatch(r"(?:-r|--requirement)\s*=?\s*(\S+)", line)
        if nested:
            target = (Path(file).parent / nested.group(1)).resolve()
            assert target not in seen, f"{file} includes {target} twice"
            lines += requirement_lines(target, (*seen, target))
        else:
            lines.append((Path(file), line))
    return lines


@pytest.fixture(scope="module")
def dockerfile():
    """The Dockerfile repo2docker would build from this repository, then what it logged."""
    if importlib.util.find_spec("repo2docker") is None:
        pytest.skip("jupyter-repo2docker is not installed (pip install -r requirements-dev.txt)")
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug",
         "--user-name", "jovyan", "--user-id", "1000", str(ROOT)],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, DOCKER_HOST="unix:///nonexistent/docker.sock"))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + "\n# repo2docker said:\n" + result.stderr


def test_runtime_is_python_3_11(dockerfile):
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert "Building conda environment for python=3.11" in dockerfile


def test_the_build_installs_the_pinned_set_and_pooling_lib(dockerfile):
    # repo2docker installs binder/requirements.txt after copying the whole repository (it has a
    # local reference), with pip run in the repository's folder, as the notebook user
    copy = dockerfile.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    install = dockerfile.index('${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir '
                               '-r "binder/requirements.txt"')
    assert copy < install
    workdir = dockerfile.rindex("WORKDIR", 0, install)
    assert dockerfile[workdir:].startswith("WORKDIR ${REPO_DIR}")
    assert dockerfile.rindex("USER ${NB_USER}", 0, install) > copy

    lines = requirement_lines(BINDER / "requirements.txt")
    pinned = [line for _, line in lines if not line.startswith(("-", "./"))]  # "./": in the repo
    assert pinned and all(re.fullmatch(r"[A-Za-z0-9_.\[\]-]+==[\w.]+", p) for p in pinned), pinned
    # ...the student's set, the one the README's open command installs
    assert pinned == [line for _, line in requirement_lines(ROOT / "requirements.txt")
                      if not line.startswith(("-", "./"))]
    # pip reads "-e ." relative to the folder it runs in (here the repository), not to the file
    editable = [line for _, line in lines if line.startswith(("-e", "--editable"))]
    assert editable == ["-e ."]
    assert 'name = "pooling_lib"' in (ROOT / "pyproject.toml").read_text()


def test_readme_badge_opens_a_notebook_that_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    badges = re.findall(r"https://mybinder\.org/v2/gh/([^/\s)]+/[^/\s)]+)/HEAD\?urlpath=lab/tree/"
                        r"([^)\s]+)", readme)
    assert badges, "the README has no Binder badge"
    for repo, urlpath in badges:
        assert repo == repository()
        assert urlpath.endswith(".ipynb") and (ROOT / urlpath).is_file(), urlpath


TEST_TOOLS = ("pytest", "pytest-xdist", "hypothesis", "nbval", "playwright", "jupyter-repo2docker")


def test_students_get_no_test_tools_and_the_tests_get_everything_students_have():
    def names(file):
        return [line.split("==")[0].lower() for _, line in requirement_lines(file)
                if not line.startswith("-")]
    student, dev = names(ROOT / "requirements.txt"), names(ROOT / "requirements-dev.txt")
    assert not set(student) & set(TEST_TOOLS), set(student) & set(TEST_TOOLS)
    assert dev[:len(student)] == student                 # -r requirements.txt comes first
    assert set(TEST_TOOLS) <= set(dev[len(student):])
    # ipywidgets 8.1.9's widgets do not render in VS Code's notebook editor
    assert "ipywidgets==8.1.8" in [line for _, line in requirement_lines(ROOT / "requirements.txt")]


def test_students_get_the_course_settings_for_jupyter():
    """requirements.txt installs the settings that keep the arrow keys on a focused slider (the
    browser test checks their effect in the Notebook 7 app); they are valid JSON for the
    shortcuts plugin and change only the two heading shortcuts, and only on a slider."""
    folder = "pooling_lib/course/jupyter_settings"
    assert f"./{folder}" in [line for _, line in requirement_lines(ROOT / "requirements.txt")]
    settings = json.loads((ROOT / folder / "pooling-lib.json").read_text())
    shortcuts = settings["@jupyterlab/shortcuts-extension:shortcuts"]["shortcuts"]
    assert {s["command"] for s in shortcuts} == {"notebook:move-cursor-heading-below-or-expand",
                                                 "notebook:move-cursor-heading-above-or-collapse"}
    kept = [s for s in shortcuts if not s.get("disabled")]
    assert len(kept) == 2 and all(s["selector"].endswith(":focus:not(.noUi-handle)") for s in kept)
    assert '"share/jupyter/lab/settings/overrides.d" = ["pooling-lib.json"]' in \
        (ROOT / folder / "pyproject.toml").read_text()
