"""The notebooks in a real browser: JupyterLab runs each one, and the explorers redraw when a
slider moves, by keyboard and by mouse.

Headless Chromium is driven by Playwright. JupyterLab serves copies of the notebooks (so
nothing here can change the real ones) on 127.0.0.1, on a free port, with a token, with its
settings, workspaces and runtime files in a temporary folder; it stops at the end.

Screenshots go to tests/screenshots/, with ``latency.json``: the median time from a key press
on a slider to the new picture, decoded and shown. The README's animation of the region and
stride explorer is made here too; to refresh it:

    UPDATE_README_GIF=1 .venv/bin/python -m pytest tests/test_browser.py -k regions

Without Playwright or Chromium these tests are skipped, with the reason in the skip message
and at the end of pytest's report. With ``REQUIRE_BROWSER=1`` (as in .ci/run) they fail instead.
Chromium is looked for in ``$CHROMIUM``, then ``chromium`` and ``chromium-browser`` on the PATH.
"""
import io
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
README_GIF = ROOT / "img" / "pool_explorer.gif"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
RUN_TIMEOUT = 600  # seconds for one notebook's Run All
LATENCY_PRESSES = 30
LATENCY_TARGET_MS = 80

pytestmark = pytest.mark.browser


# --- what is missing, said in the skip and in pytest's summary ------------------------------------

class Summary:
    """A pytest plugin that adds the browser tests' own lines to the end of the report."""

    name = "browser-test-summary"

    def __init__(self):
        self.lines = []

    def add(self, line):
        if line not in self.lines:
            self.lines.append(line)

    def pytest_terminal_summary(self, terminalreporter):
        if self.lines:
            terminalreporter.section("browser tests")
            for line in self.lines:
                terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def summary(request):
    manager = request.config.pluginmanager
    plugin = manager.get_plugin(Summary.name)
    if plugin is None:
        plugin = Summary()
        manager.register(plugin, Summary.name)
    return plugin


def chromium_executable():
    """Chromium's path: ``$CHROMIUM``, else ``chromium`` or ``chromium-browser`` on the PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser():
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python package playwright is not installed (pip install -r requirements-dev.txt)"
    if not chromium_executable():
        return ("Chromium is not installed (no $CHROMIUM, no chromium or chromium-browser on the "
                "PATH; on Debian or Ubuntu: apt-get install chromium)")
    return None


def cannot_run(summary, reason):
    """Skip (or, with REQUIRE_BROWSER=1, fail) with ``reason``, and say so in the summary."""
    summary.add(f"SKIPPED the browser tests: {reason}")
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


_CHROMIUM = {}  # one Chromium for every test module that imports the fixture below


@pytest.fixture(scope="session")
def browser(request, summary):
    """Headless Chromium (a Playwright Browser), started once and closed at the end."""
    if "reason" not in _CHROMIUM:
        _CHROMIUM["reason"] = missing_browser()
        if not _CHROMIUM["reason"]:
            from playwright.sync_api import sync_playwright
            playwright = sync_playwright().start()
            try:
                _CHROMIUM["browser"] = playwright.chromium.launch(
                    executable_path=chromium_executable(), args=CHROMIUM_ARGS)
            except Exception as error:  # e.g. missing system libraries
                playwright.stop()
                _CHROMIUM["reason"] = (f"Chromium ({chromium_executable()}) did not start: "
                                       f"{str(error).splitlines()[0]}")
            else:
                def close():
                    _CHROMIUM.pop("browser").close()
                    playwright.stop()
                request.config.add_cleanup(close)
    if _CHROMIUM["reason"]:
        cannot_run(summary, _CHROMIUM["reason"])
    return _CHROMIUM["browser"]


# --- servers ---------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A server process on 127.0.0.1 that answers ``check_url`` once it is up; stopped on exit."""

    def __init__(self, command, check_url, log, env=None, cwd=None, timeout=90):
        self.log = Path(log)
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=self.log.open("wb"),
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(check_url, timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"{command[0]} did not start:\n{self.log_tail()}")
                time.sleep(0.2)

    def log_tail(self, lines=30):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    """JupyterLab on copies of notebooks/ and img/: ``(base URL, token)``."""
    home = tmp_path_factory.mktemp("lab")
    course = home / "course"
    shutil.copytree(ROOT / "notebooks", course / "notebooks")
    shutil.copytree(ROOT / "img", course / "img")
    settings = home / "settings" / "@jupyterlab"
    for plugin, values in {  # no autosave, every cell in the page, no news or update checks
            "docmanager-extension/plugin": {"autosave": False},
            "notebook-extension/tracker": {"windowingMode": "none"},
            "apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"}
    }.items():
        file = settings / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_CONFIG_DIR=str(home / "config"),
               IPYTHONDIR=str(home / "ipython"), MPLBACKEND="Agg")
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
               "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands, read cells
               "--JupyterNotebookApp.expose_app_in_browser=True"]  # the same in the Notebook 7 app
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    base = f"http://127.0.0.1:{port}"
    server = Server(command, f"{base}/api/status?token={token}", home / "lab.log", env=env)
    yield base, token
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


# --- JupyterLab ------------------------------------------------------------------------------------

def open_notebook(page, lab, name, app="lab"):
    """Open ``notebooks/name`` in JupyterLab (or with ``app="notebook"``, in the Notebook 7 app)
    and wait until its kernel is idle."""
    base, token = lab
    workspace = secrets.token_hex(4)  # a new workspace: only this notebook is open
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/notebooks/{name}?reset&token={token}"
              if app == "lab" else f"{base}/notebooks/notebooks/{name}?token={token}")
    page.wait_for_function("() => window.jupyterapp && jupyterapp.shell.currentWidget"
                           " && jupyterapp.shell.currentWidget.sessionContext")
    status = page.evaluate("""async () => {
        const panel = jupyterapp.shell.currentWidget;
        jupyterapp.shell.activateById(panel.id);  // the notebook the commands act on
        await panel.context.ready;
        await panel.sessionContext.ready;
        const start = performance.now();
        const kernel = () => panel.sessionContext.session && panel.sessionContext.session.kernel;
        while (!(kernel() && kernel().status === 'idle')) {
            if (performance.now() - start > 60000) return kernel() ? kernel().status : 'no kernel';
            await new Promise(resolve => setTimeout(resolve, 50));
        }
        return 'idle';
    }""")
    assert status == "idle", f"{name}: the kernel is {status!r} after a minute"


def run_all(page):
    """Clear the outputs, run every cell, and return one dict per code cell."""
    page.evaluate("() => jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    finished = page.evaluate("""async (seconds) => {
        const run = jupyterapp.commands.execute('notebook:run-all-cells');
        const late = new Promise(resolve => setTimeout(() => resolve('timeout'), seconds * 1000));
        return await Promise.race([run, late]);
    }""", RUN_TIMEOUT)
    cells = page.evaluate("""() => jupyterapp.shell.currentWidget.content.widgets
        .filter(cell => cell.model.type === 'code')
        .map(cell => ({
            source: cell.model.sharedModel.getSource().split('\\n')[0].slice(0, 70),
            count: cell.model.executionCount,
            errors: cell.model.outputs.toJSON().filter(o => o.output_type === 'error')
                                               .map(o => `${o.ename}: ${o.evalue}`)}))""")
    return finished, cells


def shut_down_kernel(page):
    page.evaluate("() => jupyterapp.shell.currentWidget.sessionContext.shutdown()")


def screenshot(target, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SCREENSHOTS / name))


def click_self_check(page, path):
    """Click a wrong answer, then the right one, of the first question of the notebook's closing
    self-check, as a student does; return the colour of the mark shown after each click."""
    from pooling_lib.course.self_check import self_check
    question = self_check(path.stem[3:]).questions[0]
    labels = page.locator(".pooling-self-check .widget-radio-box").first.locator("label")
    assert labels.count() == len(question.choices), f"{path.name}: no self-check buttons"
    fills = []
    for choice in ((question.answer + 1) % len(question.choices), question.answer):
        assert labels.nth(choice).inner_text().strip() == question.choices[choice]
        labels.nth(choice).click()
        expected = "#1a7f37" if choice == question.answer else "#cf222e"
        try:
            page.wait_for_function("""(fill) => {
                const mark = document.querySelector('.pooling-self-check .pooling-feedback circle');
                return mark && mark.getAttribute('fill') === fill; }""", arg=expected, timeout=10000)
        except Exception:
            pass  # the assertion reports what was shown
        fills.append(page.evaluate("""() => { const mark = document.querySelector(
            '.pooling-self-check .pooling-feedback circle');
            return mark && mark.getAttribute('fill'); }"""))
    screenshot(page.locator(".pooling-self-check").first, f"{path.stem}_self_check.png")
    return fills


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(page, lab, path):
    open_notebook(page, lab, path.name)
    finished, cells = run_all(page)
    try:
        page.evaluate("() => jupyterapp.shell.currentWidget.node"
                      ".querySelectorAll('.jp-WindowedPanel-outer').forEach(n => { n.scrollTop = 0; })")
        screenshot(page, f"{path.stem}.png")
        marks = page.evaluate("""() => [...document.querySelectorAll('.pooling-feedback svg')]
            .map(svg => ({width: svg.getBoundingClientRect().width,
                          fill: svg.querySelector('circle').getAttribute('fill')}))""")
        clicked = click_self_check(page, path)
    finally:
        shut_down_kernel(page)
    errors = [f"cell '{c['source']}': {e}" for c in cells for e in c["errors"]]
    assert not errors, f"{path.name} shows errors:\n" + "\n".join(errors)
    checks = sum(1 for c in nbformat.read(path, as_version=4).cells
                 if c.cell_type == "code" and re.search(r"^[^#\n]*\bcheck_\w+\(", c.source, re.M))
    assert [m["width"] > 10 and m["fill"] == "#cf222e" for m in marks] == [True] * checks, \
        f"{path.name}: the verdicts' marks as drawn: {marks}"
    assert clicked == ["#cf222e", "#1a7f37"], f"{path.name}: the self-check's verdicts: {clicked}"
    not_run = [c["source"] for c in cells if c["count"] is None]
    assert finished is True and not not_run, \
        f"{path.name}: Run All {'timed out' if finished == 'timeout' else 'stopped'}; not run: {not_run}"


# --- sliders ---------------------------------------------------------------------------------------

# notebook, the call that shows the explorer, the slider moved
EXPLORERS = [("02_regions_and_strides.ipynb", "pool_explorer(", "window"),
             ("05_backward_pass.ipynb", "backward_explorer(", "output column")]

WATCH_PICTURE = """(img) => {
    window.__picture = {key: 0, src: 0, load: 0};
    document.addEventListener('keydown', () => {
        window.__picture = {key: performance.now(), src: 0, load: 0};
    }, true);
    new MutationObserver(() => { window.__picture.src = performance.now(); })
        .observe(img, {attributes: true, attributeFilter: ['src']});
    img.addEventListener('load', () => { window.__picture.load = performance.now(); });
}"""


def explorer_parts(page, call, slider_label):
    """The explorer shown by the cell that contains ``call``: (its box, picture, slider, the
    slider's handle and its readout)."""
    index = page.evaluate("""(call) => jupyterapp.shell.currentWidget.content.widgets
        .findIndex(cell => cell.model.type === 'code' && cell.model.sharedModel.getSource().includes(call))""",
                          call)
    assert index >= 0, f"no cell calls {call}"
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    box = cell.locator(".jp-OutputArea-output .widget-vbox").first
    picture = box.locator("img.widget-image").first
    picture.wait_for()
    slider = box.locator(".widget-slider", has=page.locator(".widget-label", has_text=re.compile(
        rf"^\s*{re.escape(slider_label)}\s*$"))).first
    box.scroll_into_view_if_needed()
    return box, picture, slider, slider.locator(".noUi-handle").first, \
        slider.locator(".widget-readout").first


def wait_for_new_picture(page, picture, before, what):
    try:
        page.wait_for_function("([img, before]) => img.src !== before && img.complete",
                               arg=[picture.element_handle(), before], timeout=15_000)
    except Exception:
        pytest.fail(f"the picture did not change within 15 s after {what}")


def median_latency(page, handle, presses=LATENCY_PRESSES):
    """Median milliseconds from a key press on the focused slider to its new picture: to the
    new ``src``, and to the picture decoded (its load event). The slider should be at its end."""
    to_src, to_load = [], []
    for k in range(presses):
        handle.press("ArrowLeft" if k % 2 == 0 else "ArrowRight")
        page.wait_for_function("() => window.__picture.load > window.__picture.key",
                               timeout=15_000)
        marks = page.evaluate("() => window.__picture")
        to_src.append(marks["src"] - marks["key"])
        to_load.append(marks["load"] - marks["key"])
        page.wait_for_timeout(150)  # let the kernel go idle, as between two real presses
    return statistics.median(to_src), statistics.median(to_load)


def record_latency(name, values):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    file = SCREENSHOTS / "latency.json"
    data = json.loads(file.read_text()) if file.exists() else {}
    data[name] = values
    file.write_text(json.dumps(data, indent=1) + "\n")


def save_gif(frames, path):
    """An animated GIF of PNG screenshots ``frames``."""
    from PIL import Image
    frames = [Image.open(io.BytesIO(frame)).convert("RGB").quantize(colors=64, method=2)
              for frame in frames]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=650, loop=0,
                   optimize=True)


@pytest.mark.parametrize("name, call, slider_label", EXPLORERS, ids=[e[0][:-6] for e in EXPLORERS])
def test_slider_redraws_the_picture(page, lab, summary, name, call, slider_label):
    stem = name[:-6]
    open_notebook(page, lab, name)
    try:
        finished, cells = run_all(page)
        assert finished is True, f"{name}: Run All did not finish"
        box, picture, slider, handle, readout = explorer_parts(page, call, slider_label)

        # the keyboard: focus the slider's handle, press the right arrow (and for the README's
        # animation, four more times, then back)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        frames = [box.screenshot()]
        handle.focus()
        page.evaluate(WATCH_PICTURE, picture.element_handle())
        keys = ["ArrowRight"] * 5 + ["ArrowLeft"] * 5 if stem.startswith("01") else ["ArrowRight"]
        for k, key in enumerate(keys):
            before, value = picture.get_attribute("src"), readout.inner_text()
            handle.press(key)
            wait_for_new_picture(page, picture, before, f"pressing {key} on the slider")
            assert readout.inner_text() != value, f"{key} did not move the slider"
            frames.append(box.screenshot())
        (SCREENSHOTS / f"{stem}_explorer_keyboard.png").write_bytes(frames[1])
        if len(frames) > 2:
            save_gif(frames, SCREENSHOTS / "pool_explorer.gif")
            if os.environ.get("UPDATE_README_GIF") == "1":
                shutil.copyfile(SCREENSHOTS / "pool_explorer.gif", README_GIF)
                summary.add(f"wrote {README_GIF.relative_to(ROOT)}")

        # the mouse: drag the handle to the far end of its track
        before, value = picture.get_attribute("src"), readout.inner_text()
        start, track = handle.bounding_box(), slider.locator(".noUi-base").first.bounding_box()
        middle = start["y"] + start["height"] / 2
        page.mouse.move(start["x"] + start["width"] / 2, middle)
        page.mouse.down()
        page.mouse.move(track["x"] + track["width"] + 20, middle, steps=8)
        page.mouse.up()
        wait_for_new_picture(page, picture, before, "dragging the slider with the mouse")
        assert readout.inner_text() != value, "dragging did not move the slider"
        screenshot(box, f"{stem}_explorer_mouse.png")

        # how long from a key press to the new picture
        handle.focus()
        to_src, to_load = median_latency(page, handle)
        record_latency(f"{stem} {call}", {"presses": LATENCY_PRESSES, "median_ms_to_new_src":
                                          round(to_src, 1), "median_ms_to_picture_shown":
                                          round(to_load, 1), "target_ms": LATENCY_TARGET_MS})
        summary.add(f"{stem} {call}): key press -> new picture shown, median of "
                    f"{LATENCY_PRESSES}: {to_load:.0f} ms (new src: {to_src:.0f} ms; target "
                    f"{LATENCY_TARGET_MS} ms{'' if to_load <= LATENCY_TARGET_MS else ', MISSED'})")
    finally:
        shut_down_kernel(page)


@pytest.mark.parametrize("name, call, slider_label", EXPLORERS, ids=[e[0][:-6] for e in EXPLORERS])
def test_arrow_keys_move_a_focused_slider_in_the_notebook_7_app(page, lab, name, call, slider_label):
    """The Notebook 7 app binds the left and right arrows to "jump between headings"; the
    course's settings (installed by requirements.txt) keep them for a focused slider."""
    open_notebook(page, lab, name, app="notebook")
    try:
        finished, _ = run_all(page)
        assert finished is True, f"{name}: Run All did not finish in the Notebook 7 app"
        box, picture, slider, handle, readout = explorer_parts(page, call, slider_label)
        handle.focus()
        for key in ("ArrowRight", "ArrowLeft"):
            before, value = picture.get_attribute("src"), readout.inner_text()
            handle.press(key)
            wait_for_new_picture(page, picture, before, f"pressing {key} in the Notebook 7 app")
            assert readout.inner_text() != value, f"{key} did not move the slider"
            assert page.evaluate("(h) => document.activeElement === h", handle.element_handle()), \
                f"{key} took the focus away from the slider"
        screenshot(box, f"{name[:-6]}_explorer_notebook7.png")
    finally:
        shut_down_kernel(page)
