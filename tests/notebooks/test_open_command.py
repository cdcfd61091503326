"""The README's open command, word for word, in a real browser: every picture of every notebook
shows, in JupyterLab and in the Notebook 7 app.

The command runs in a copy of the course (notebooks/ and img/ side by side, as in the
repository), with only what a test needs added after it: no browser of its own, a free port,
a token, and no autosave (so nothing is written back).
"""
import json
import os
import re
import secrets
import shlex
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from test_browser import NOTEBOOKS, ROOT, Server, browser, free_port, screenshot, summary  # noqa: F401

pytestmark = pytest.mark.browser

APPS = {"jupyterlab": "lab/tree", "notebook7": "notebooks"}
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(|<img\s")


def open_command():
    """The README's open command: what follows the last ``&&`` (the venv and pip steps before
    it have run already), as a list of words."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- open command -->\s*```\w*\n(.+?)\n```", readme, re.S)
    assert block, "the README has no open command"
    words = shlex.split(block.group(1).split("&&")[-1])
    assert words[0] == ".venv/bin/jupyter", words
    return words


@pytest.fixture(scope="module")
def readme_server(browser, tmp_path_factory):
    """The open command, started in a copy of the course: ``(base URL, token, runtime dir)``."""
    home = tmp_path_factory.mktemp("open")
    course = home / "course"
    for folder in ("notebooks", "img"):
        shutil.copytree(ROOT / folder, course / folder)
    settings = home / "settings" / "@jupyterlab"
    for plugin, values in {"docmanager-extension/plugin": {"autosave": False},
                           "notebook-extension/tracker": {"windowingMode": "none"},
                           "apputils-extension/notification": {"checkForUpdates": False,
                                                               "fetchNews": "false"}}.items():
        file = settings / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    runtime = home / "runtime"
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTER_CONFIG_DIR=str(home / "config"), IPYTHONDIR=str(home / "ipython"))
    port, token = free_port(), secrets.token_hex(16)
    words = open_command()
    command = [sys.executable, "-m", "jupyter", *words[1:], "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    base = f"http://127.0.0.1:{port}"
    server = Server(command, f"{base}/api/status?token={token}", home / "server.log", env=env,
                    cwd=course)
    yield base, token, runtime
    server.stop()


def test_the_open_command_opens_the_first_notebook(readme_server):
    _, _, runtime = readme_server
    # the page the server opens in the browser when it is given a file
    opened = [f.read_text() for f in Path(runtime).glob("jpserver-file-to-run-*-open.html")]
    assert opened, "the server was given no file to open"
    assert re.search(r"/lab/tree/notebooks/00_start_here\.ipynb", opened[0]), opened[0][:500]


def picture_count(path):
    """Pictures a notebook shows before it is run: markdown images and stored image outputs."""
    nb = nbformat.read(path, as_version=4)
    markdown = sum(len(MARKDOWN_IMAGE.findall(c.source)) for c in nb.cells
                   if c.cell_type == "markdown" and "navigation" not in c.metadata.get("tags", []))
    outputs = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "image/png" in o.get("data", {}))
    return markdown + outputs


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_picture_shows(browser, readme_server, path, app):
    base, token, _ = readme_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        # JupyterLab would restore the tabs of the previous page too: ?reset opens this one alone
        page.goto(f"{base}/{APPS[app]}/notebooks/{path.name}?reset&token={token}")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for()
        page.wait_for_function("(n) => document.querySelectorAll('.jp-Notebook .jp-Cell').length >= n",
                               arg=len(nbformat.read(path, as_version=4).cells))
        expected = picture_count(path)
        page.wait_for_function("""(n) => {
            const pictures = [...document.querySelectorAll('.jp-Notebook img')]
                .filter(img => !img.src.includes('badge'));
            return pictures.length >= n && pictures.every(img => img.complete);
        }""", arg=expected)
        pictures = page.evaluate("""() => [...document.querySelectorAll('.jp-Notebook img')]
            .filter(img => !img.src.includes('badge'))
            .map(img => ({src: img.getAttribute('src').slice(0, 80), width: img.naturalWidth}))""")
        if app == "jupyterlab":
            screenshot(page, f"open_command_{path.stem}.png")
    finally:
        context.close()
    broken = [p["src"] for p in pictures if p["width"] == 0]
    assert not broken, f"{path.name} in {app}: {len(broken)} broken picture(s): {broken}"
    assert len(pictures) >= expected
