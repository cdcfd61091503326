"""pooling_lib.course.export: the pages and slides to share after class, and the live slides.

The exported files are read as text (every picture embedded, nothing remote that matters),
then opened in headless Chromium with the network cut off: the slides are slides (the right
arrow moves on), the formulas are typeset and every picture shows. The live slides run in
Voila, where moving a slider redraws the picture.

reveal.js and MathJax come from the npm registry the first time (then from exports/.vendor);
when they cannot be had, the tests that need them are skipped and say why.
"""
import html
import html.parser
import os
import re
import secrets
import sys
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from test_browser import Server, browser, free_port, summary  # noqa: F401  (fixtures)
from test_slides import MEASURE, MIN_TEXT_PX, TWO_FRAMES, VIEWPORT

from pooling_lib.course import export, widgets

ROOT = Path(__file__).resolve().parents[2]
SERIES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))



@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every notebook exported into a temporary folder: ``{file name: text}``."""
    out = tmp_path_factory.mktemp("exports")
    messages = []
    written = export.export(out=out, log=messages.append)
    if not any(p.name.endswith(".slides.html") for p in written):
        reason = "reveal.js could not be fetched from the npm registry: " + "; ".join(messages)
        if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: the slides must be tested
            pytest.fail(reason)
        pytest.skip(reason)
    return out, {p.name: p.read_text(encoding="utf-8") for p in written}


class References(html.parser.HTMLParser):
    """Every address a page loads by itself (scripts, style sheets, pictures, frames), and
    every link."""

    LOADS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "video": "src",
             "audio": "src", "embed": "src", "object": "data", "link": "href"}

    def __init__(self):
        super().__init__()
        self.loads, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.loads.append(attrs[self.LOADS[tag]])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def remote(address):
    return re.match(r"(https?:)?//", address.strip()) is not None


def remote_loads(text):
    """Remote addresses the page would load: tags, CSS url() and @import."""
    parser = References()
    parser.feed(text)
    css = re.findall(r"""url\(\s*['"]?((?:https?:)?//[^'")\s]+)|@import\s+(?:url\()?\s*['"]((?:https?:)?//[^'"]+)""",
                     text)
    return [a for a in parser.loads if remote(a)] + [a or b for a, b in css]


# --- the files -----------------------------------------------------------------------------------

def test_every_notebook_is_exported_as_a_page_and_slides(exported):
    out, files = exported
    for path in SERIES:
        assert f"{path.stem}.html" in files and f"{path.stem}.slides.html" in files
    index = files["index.html"]
    for path in SERIES:
        assert f'href="{path.stem}.html"' in index and f'href="{path.stem}.slides.html"' in index


def test_nothing_remote_is_loaded(exported):
    out, files = exported
    problems = {name: remote_loads(text) for name, text in files.items() if remote_loads(text)}
    assert problems == {}


def test_every_picture_is_embedded(exported):
    out, files = exported
    for name, text in files.items():
        parser = References()
        parser.feed(text)
        pictures = [a for a in parser.loads if not a.startswith("data:")
                    and re.search(r"\.(png|jpe?g|gif|svg)\b", a)]
        assert pictures == [], f"{name} loads pictures from files: {pictures}"


def test_markdown_pictures_and_explorers(exported):
    """Each markdown picture is in the export; each explorer is replaced by a note; the
    self-check shows its questions with a verdict behind every choice."""
    out, files = exported
    for path in SERIES:
        nb = nbformat.read(path, as_version=4)
        pictures = sum(len(re.findall(r"!\[[^\n]*?\]\(\s*<?[^)\s>]*img/", c.source))
                       for c in nb.cells if c.cell_type == "markdown")
        widgets = [o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if export.WIDGET_VIEW in o.get("data", {})]
        explorers = sum("text/html" not in data for data in widgets)
        checks = [data["text/html"] for data in widgets if "text/html" in data]
        assert len(checks) == 1, f"{path.stem}: {len(checks)} self-checks saved"
        for suffix in (".html", ".slides.html"):
            text = files[path.stem + suffix]
            assert text.count('src="data:image/') >= pictures, f"{path.stem}{suffix}"
            assert text.count('class="live-note"') == explorers, f"{path.stem}{suffix}"
            assert "application/vnd.jupyter.widget-state+json" not in text
            assert text.count('<div class="pooling-self-check">') == 1, f"{path.stem}{suffix}"
            assert text.count("<details><summary>") >= 9 and 'aria-label="not yet"' in text


def test_links_between_notebooks_point_at_the_exports(exported):
    out, files = exported
    for name, text in files.items():
        parser = References()
        parser.feed(text)
        local = [a for a in parser.links if not remote(a) and not a.startswith("#")]
        assert not [a for a in local if a.endswith(".ipynb")], name
        missing = [a for a in local if not (out / a.split("#")[0]).is_file()]
        assert missing == [], f"{name} links to {missing}"


def test_formulas_come_with_mathjax(exported):
    out, files = exported
    for path in SERIES:
        math = export.has_math(nbformat.read(path, as_version=4))
        for suffix in (".html", ".slides.html"):
            assert ("window.MathJax" in files[path.stem + suffix]) == math, path.stem + suffix


def test_sharing_copy_rewrites_only_what_it_must():
    path = ROOT / "notebooks" / "02_regions_and_strides.ipynb"
    nb = nbformat.read(path, as_version=4)
    shared = export.for_sharing(nb, path, ".html")
    assert len(shared.cells) == len(nb.cells)
    assert "widgets" not in shared.metadata and "widgets" in nb.metadata  # the original is kept
    text = "\n".join(c.source for c in shared.cells)
    assert "badge_logo.svg" not in text and "colab-badge.svg" not in text
    assert "(00_start_here.html)" in text and "[&#9654; Open in Colab](https://colab" in text
    assert "../img/" not in text


def test_live_copy_drops_the_first_state_picture_before_an_explorer():
    path = ROOT / "notebooks" / "02_regions_and_strides.ipynb"
    nb = nbformat.read(path, as_version=4)
    live = export.for_live(nb, path.parent)
    assert len(live.cells) == len(nb.cells) - 1
    [cell] = [c for c in live.cells if "pool_explorer(" in c.source]
    assert cell.metadata["slideshow"]["slide_type"] == "subslide"  # it took the picture's place
    assert "../img/" not in "\n".join(c.source for c in live.cells)


EXPLORER_CALL = re.compile(r"^(?!\s*#).*\b(%s)\s*\(" % "|".join(
    make.__name__ for make in widgets.EXPLORERS), re.MULTILINE)


@pytest.mark.parametrize("path", SERIES, ids=[path.stem for path in SERIES])
def test_live_copy_shows_every_explorer_in_place_of_its_picture(path):
    """Each explorer's picture sits alone in the cell before it, so the live copy can leave
    it out; the explorer then starts the (sub)slide the picture started."""
    nb = nbformat.read(path, as_version=4)
    live = export.for_live(nb, path.parent)
    explorers = [c for c in live.cells if c.cell_type == "code" and EXPLORER_CALL.search(c.source)]
    assert len(live.cells) == len(nb.cells) - len(explorers)
    assert [c.metadata["slideshow"]["slide_type"] for c in explorers] == \
        ["subslide"] * len(explorers)


def test_live_copy_links_notebooks_beside_it_and_other_files_on_github():
    path = ROOT / "notebooks" / "00_start_here.ipynb"
    live = export.for_live(nbformat.read(path, as_version=4), path.parent)
    text = "\n".join(c.source for c in live.cells if c.cell_type == "markdown")
    assert "](02_regions_and_strides.ipynb)" in text
    assert "](../" not in text and "/blob/HEAD/README.md)" in text  # [README](../README.md)


# --- in the browser, offline ---------------------------------------------------------------------

@pytest.fixture
def offline_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, offline=True)
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.requests, page.errors = requests, errors
    yield page
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("stem", ["02_regions_and_strides", "05_backward_pass"])
def test_static_slides_work_offline(exported, offline_page, stem):
    out, files = exported
    page = offline_page
    page.goto((out / f"{stem}.slides.html").as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()")
    assert page.evaluate("() => Reveal.getTotalSlides()") > 3
    assert page.evaluate("() => Reveal.getIndices().h") == 0
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => Reveal.getIndices().h === 1")
    page.screenshot(path=str(ROOT / "tests" / "screenshots" / f"{stem}.slides.png"))
    # every picture decodes, every formula is typeset, nothing was fetched from the network
    page.evaluate("() => Reveal.slide(Reveal.getTotalSlides())")  # show the last one, too
    broken = page.evaluate("""async () => {
        const images = [...document.images];
        await Promise.all(images.map(img => img.decode().catch(() => null)));
        return images.filter(img => !img.naturalWidth).map(img => img.alt || img.src.slice(0, 40));
    }""")
    assert broken == []
    if export.has_math(nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)):
        page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0")
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.parametrize("stem", [path.stem for path in SERIES])
def test_static_slides_fit_a_1024x768_screen(exported, browser, stem):
    """The slides to share, on a classroom projector, walked with the space bar as in
    test_slides.py: every slide fits, no text under 10 px, nothing cut or broken mid-word."""
    out, files = exported
    context = browser.new_context(viewport=VIEWPORT, offline=True)
    page = context.new_page()
    try:
        page.goto((out / f"{stem}.slides.html").as_uri())
        page.wait_for_selector(".reveal.fitted", state="attached")
        page.evaluate("() => Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
        found = []
        for _ in range(600):
            step = page.evaluate(MEASURE)
            where = f"slide {step['at']} {step['title']!r}"
            if step["overflow"]:
                found.append(f"{where}: content {step['content']} outside {step['room']}")
            if step["smallest"]["px"] < MIN_TEXT_PX:
                found.append(f"{where}: text of {step['smallest']['px']:.1f} px")
            found += [f"{where}: cut: {what}" for what in step["cut"]]
            found += [f"{where}: broken: {word!r}" for word in step["broken"]]
            if step["deckEnds"]:
                break
            page.keyboard.press("Space")
            page.evaluate(TWO_FRAMES)
        assert sorted(set(found)) == []
    finally:
        context.close()


@pytest.mark.browser
def test_static_page_works_offline(exported, offline_page):
    out, files = exported
    page = offline_page
    page.goto((out / "07_padding_and_output_size.html").as_uri())
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0")
    broken = page.evaluate("""async () => {
        const images = [...document.images];
        await Promise.all(images.map(img => img.decode().catch(() => null)));
        return images.filter(img => !img.naturalWidth).length;
    }""")
    assert broken == 0
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    assert page.errors == []


# --- live slides with Voila ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def live_slides(browser, tmp_path_factory):
    """``python -m pooling_lib.course.export --live 02``, on a free port with a token, with a
    stand-in for the web browser that notes the address it is asked to open: that address."""
    home = tmp_path_factory.mktemp("voila")
    opened = home / "opened.txt"
    stand_in = home / "browser"
    stand_in.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n')
    stand_in.chmod(0o755)
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "pooling_lib.course.export", "--live", "02",
               f"--port={port}", f"--token={token}"]
    server = Server(command, f"http://127.0.0.1:{port}/voila/static/reveal.js-6.0.1/dist/reveal.css",
                    home / "voila.log", cwd=ROOT, env=dict(os.environ, BROWSER=str(stand_in)))
    try:
        for _ in range(100):  # the browser opens a page that sends it on to the slides
            if opened.is_file() and opened.read_text():
                break
            time.sleep(0.1)
        page = Path(urllib.parse.urlparse(opened.read_text()).path).read_text(encoding="utf-8")
        address = html.unescape(re.search(r'url=([^"]+)"', page).group(1))
        yield address
    finally:
        server.stop()


@pytest.mark.browser
def test_live_command_opens_the_deck_on_this_computer_only(live_slides):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/voila/render/02_regions_and_strides\.ipynb"
                        r"\?token=[0-9a-f]{32}", live_slides)


@pytest.mark.browser
def test_live_slides_redraw_when_a_slider_moves(browser, live_slides):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(live_slides, wait_until="commit")
        page.wait_for_selector(".reveal.fitted", state="attached")  # long slides are cut first
        page.wait_for_selector(".widget-slider", state="attached")
        visible = """() => {
            const s = document.querySelector('.widget-slider'), r = s.getBoundingClientRect();
            const hidden = s.closest('.fragment:not(.visible)') || s.closest('section:not(.present)');
            return !hidden && r.width > 0 && r.top >= 0 && r.bottom <= innerHeight; }"""
        for _ in range(80):  # the space bar walks through every slide and fragment
            if page.evaluate(visible):
                break
            page.keyboard.press("Space")
            page.wait_for_timeout(300)
        else:
            pytest.fail("no slide shows the explorer")
        page.screenshot(path=str(ROOT / "tests" / "screenshots" / "01_live_slides.png"))
        picture = page.locator(".widget-image").first
        slider = page.locator(".widget-slider", has=page.locator(
            ".widget-label", has_text=re.compile(r"^\s*stride\s*$"))).first
        where = page.url

        before = picture.get_attribute("src")
        track = slider.locator(".noUi-base").first
        size = track.bounding_box()  # clicking the locator waits until the slide stops moving
        track.click(position={"x": size["width"] * 0.98, "y": size["height"] / 2})
        page.wait_for_function("(before) => document.querySelector('.widget-image').src !== before",
                               arg=before)  # the page default: the kernel may still be busy

        before = picture.get_attribute("src")
        slider.locator(".noUi-handle").first.press("ArrowLeft")
        page.wait_for_function("(before) => document.querySelector('.widget-image').src !== before",
                               arg=before)  # the page default: the kernel may still be busy
        assert page.url == where, "the arrow key moved the slides as well as the slider"
        page.screenshot(path=str(ROOT / "tests" / "screenshots" / "01_live_slides_moved.png"))
    finally:
        context.close()


def test_voilas_own_pages_ask_this_server_for_their_icons():
    """Voila's base page (its error pages) with Font Awesome from our copy, never a CDN."""
    page = export.offline_voila_page("fortawesome-fontawesome-free-5.15.4")
    assert "cdn." not in page and "https://" not in page.split("<body")[0]
    assert "voila/static/fortawesome-fontawesome-free-5.15.4/css/v4-shims.min.css" in page
    assert "font-awesome" not in export.offline_voila_page(None)


@pytest.mark.browser
def test_speaker_view_opens_offline_with_the_notes_and_the_next_slide(exported, offline_page):
    """S opens reveal.js's speaker view in a window of its own: the current slide's speaker
    notes (for the whole slide, not only its last fragment), the next slide and a timer, all
    from the exported file (offline)."""
    out, _ = exported
    page = offline_page
    requests = []
    page.context.on("request", lambda request: requests.append(request.url))
    page.goto((out / "04_forward_pass.slides.html").as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()")
    notes = page.evaluate("""() => {
        const slide = Reveal.getSlides().find(s => s.querySelector('aside.notes'));
        const {h, v} = Reveal.getIndices(slide);
        Reveal.slide(h, v);
        return slide.querySelector('aside.notes').textContent.trim();
    }""")
    assert notes.startswith("Speaker notes")
    with page.context.expect_page() as opened:
        page.keyboard.press("s")
    speaker = opened.value
    shown = """(start) => {
        const box = document.querySelector('.speaker-controls-notes:not(.hidden)');
        return box !== null && box.textContent.includes(start);
    }"""
    speaker.wait_for_function(shown, arg=notes[:40], timeout=30_000)   # from the slide's start
    page.bring_to_front()
    page.keyboard.press("ArrowRight")                                   # and on its fragments
    page.wait_for_function("() => Reveal.getIndices().f >= 0")
    speaker.wait_for_function(shown, arg=notes[:40], timeout=10_000)
    assert speaker.locator("#upcoming-slide iframe").count() == 1
    assert speaker.locator(".speaker-controls-time").count() == 1
    speaker.screenshot(path=str(ROOT / "tests" / "screenshots" / "speaker_view.png"))
    assert [u for u in requests if not u.startswith(("file:", "data:", "about:", "blob:"))] == []
