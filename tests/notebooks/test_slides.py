"""The live slides as a class sees them: every deck on a 1024x768 projector.

One Voila server serves notebooks/ as ``python -m pooling_lib.course.export --live NN`` does
(``export.live_app``), on 127.0.0.1 with a token. Each deck gets one extra hidden cell (PROBE)
that writes, into every figure's PNG, the smallest text the figure draws, in the PNG's own
pixels (the ``MinTextPx`` text chunk). Headless Chromium opens every deck at 1024x768 and
presses Space until the end, through every slide and every fragment; after each press it
measures the slide shown:

- its content fits inside the slide and the window, without scrolling;
- the smallest text on screen (computed font size times every scale on the way: reveal.js's,
  and the zoom that fits a slide or a cell), widget labels included, is at least 10 px;
- nothing is cut (a box that hides or scrolls part of its content) and no word is broken
  across two lines (breaks after a hyphen or a slash are fine);
- every picture decodes, and its own text is at least 10 px on screen: ``MinTextPx`` times
  the size the PNG is shown at over its size in pixels (the pictures from img/ are drawn again
  in a separate Python with the same probe to learn theirs);
- an explorer, once shown, is inside the window.

The links to the previous and next notebook must open those decks (deck 02 is reached by
clicking deck 00's link), and no request may leave 127.0.0.1. A screenshot of every slide, at
its last fragment, goes to tests/screenshots/slides/, with measures.json (every step's
measures).

To keep this under three minutes, the next deck loads (its notebook runs) while one is being
walked, and notebook 10, the slowest to run, loads first; a deck's kernel is shut down once it
has been walked.
"""
import base64
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from test_browser import Server, browser, cannot_run, free_port, summary  # noqa: F401  (fixtures)

from pooling_lib.course import export, widgets

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SERIES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
DECKS = [path.name[:2] for path in SERIES]
SCREENSHOTS = ROOT / "tests" / "screenshots" / "slides"
VIEWPORT = {"width": 1024, "height": 768}  # a classroom projector
MIN_TEXT_PX = 10
SLOWEST = ("15", "11")  # their notebooks race trained networks: they start loading first

pytestmark = pytest.mark.browser

# Runs in every deck's kernel, hidden: records the text each figure draws and writes the
# smallest, in the PNG's pixels, into the PNG as the text chunk MinTextPx.
PROBE = '''
import matplotlib.backends.backend_agg as _agg
import matplotlib.collections as _collections
import matplotlib.text as _text
from pooling_lib.course import plotting as _plotting

_drawn = []

def _draw_text(self, renderer, _draw=_text.Text.draw):
    if self.get_visible() and self.get_text().strip():
        _drawn.append(renderer.points_to_pixels(self.get_fontsize()))
    return _draw(self, renderer)

def _draw_paths(self, renderer, _draw=_collections.PathCollection.draw):
    if self.get_visible() and getattr(self, "_probe_points", None):
        _drawn.append(renderer.points_to_pixels(self._probe_points))
    return _draw(self, renderer)

def _set_labels(self, strings, _set=_plotting.Labels.set):
    _set(self, strings)  # plotting.Labels: texts drawn as glyph outlines
    self.collection._probe_points = self.size if any(s.strip() for s in self.strings) else None

def _print_png(self, filename_or_obj, *, metadata=None, pil_kwargs=None,
               _print=_agg.FigureCanvasAgg.print_png):
    _drawn.clear()
    _agg.FigureCanvasAgg.draw(self)
    smallest = min(_drawn, default=0.0)
    return _print(self, filename_or_obj, pil_kwargs=pil_kwargs,
                  metadata={**(metadata or {}), "MinTextPx": f"{smallest:.2f}"})

_print_png.__module__ = _agg.__name__  # so that savefig passes it only what it takes

_text.Text.draw = _draw_text
_collections.PathCollection.draw = _draw_paths
_plotting.Labels.set = _set_labels
_agg.FigureCanvasAgg.print_png = _print_png
'''

# export.present, with PROBE as a hidden cell right after each deck's title.
LAUNCH = '''
import sys
import nbformat
from pooling_lib.course import export

folder, probe, *argv = sys.argv[1:]
app, config = export.live_app(folder)
prepare = config.VoilaConfiguration.prelaunch_hook

def with_probe(handler, notebook, cwd):
    nb = prepare(handler, notebook=notebook, cwd=cwd)
    cell = nbformat.v4.new_code_cell(open(probe, encoding="utf-8").read())
    cell.metadata["slideshow"] = {"slide_type": "skip"}
    nb.cells.insert(1, cell)
    return nb

config.VoilaConfiguration.prelaunch_hook = with_probe
app.launch_instance(argv=[folder, *argv, "--Voila.ip=127.0.0.1"], config=config)
'''

# The pictures of img/ drawn again with PROBE: {file name: [MinTextPx, width, height]}.
FIGURE_TEXT = PROBE + '''
import io, json
from PIL import Image
from pooling_lib.course import figures, widgets
explorers = {f"{make.__name__}.png" for make in widgets.EXPLORERS}
found = {}
for name, make in figures.PICTURES.items():
    if name in explorers:
        continue  # in live slides the explorer itself takes the place of its picture
    picture = Image.open(io.BytesIO(make().png()))
    found[name] = [float(picture.info["MinTextPx"]), *picture.size]
print(json.dumps(found))
'''

# The slide shown, measured (see the module's docstring).
MEASURE = r"""async () => {
  const slide = Reveal.getCurrentSlide(), at = Reveal.getIndices();
  const frame = document.querySelector('.reveal .slides').getBoundingClientRect();
  const room = {left: Math.max(0, frame.left), top: Math.max(0, frame.top),
                right: Math.min(innerWidth, frame.right), bottom: Math.min(innerHeight, frame.bottom)};
  const inside = r => r.left >= room.left - 2 && r.top >= room.top - 2 &&
                      r.right <= room.right + 2 && r.bottom <= room.bottom + 2;
  const box = r => [r.left, r.top, r.right, r.bottom].map(Math.round);
  const shown = el => !el.closest('.fragment:not(.visible)') && el.getClientRects().length > 0 &&
                      getComputedStyle(el).visibility !== 'hidden';
  const scaleOf = el => {
    while (el && !(el.offsetWidth > 0)) el = el.parentElement;
    return el ? el.getBoundingClientRect().width / el.offsetWidth : 1;
  };
  const words = el => (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 70);

  let content = null;  // every box of the slide, parts still to come included (they have their place)
  for (const el of slide.querySelectorAll('*')) {
    if (!el.getClientRects().length || el.closest('aside.notes')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    content = content ? {left: Math.min(content.left, r.left), top: Math.min(content.top, r.top),
                         right: Math.max(content.right, r.right), bottom: Math.max(content.bottom, r.bottom)}
                      : {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  }
  const scrolls = slide.hasAttribute('data-fit-overflow') ||
      (slide.scrollHeight > slide.clientHeight + 2 && /auto|scroll/.test(getComputedStyle(slide).overflowY));

  const cut = [];
  for (const el of slide.querySelectorAll('*')) {
    if (el.tagName.startsWith('MJX') || !shown(el)) continue;
    const style = getComputedStyle(el);
    if (style.overflowX !== 'visible' && el.clientWidth && el.scrollWidth > el.clientWidth + 2)
      cut.push(`${words(el) || el.className} (${el.scrollWidth} px wide in ${el.clientWidth})`);
    else if (style.overflowY !== 'visible' && el.clientHeight && el.scrollHeight > el.clientHeight + 2)
      cut.push(`${words(el) || el.className} (${el.scrollHeight} px tall in ${el.clientHeight})`);
  }

  let smallest = {px: Infinity, text: ''};
  const broken = [];
  const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    const el = node.parentElement;
    if (!node.nodeValue.trim() || !el || el.closest('script, style, aside.notes') || !shown(el)) continue;
    const px = parseFloat(getComputedStyle(el).fontSize) * scaleOf(el);
    if (px < smallest.px) smallest = {px, text: node.nodeValue.trim().slice(0, 40)};
    for (const m of node.nodeValue.matchAll(/\S{2,}/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = [...range.getClientRects()].filter(r => r.width).map(r => r.top);
      if (!tops.length || Math.max(...tops) - Math.min(...tops) < 3) continue;
      for (let i = 1; i < m[0].length; i++) {  // where the word goes on to the next line
        range.setStart(node, m.index + i);
        range.setEnd(node, m.index + i + 1);
        const r = range.getClientRects()[0];
        if (r && r.top - tops[0] >= 3) {
          if (!'-/\u2013\u2014'.includes(m[0][i - 1])) broken.push(m[0].slice(0, 40));
          break;
        }
      }
    }
  }

  window.__pngText = window.__pngText || new Map();
  const pngText = async src => {  // the MinTextPx text chunk of a PNG, or null
    if (!window.__pngText.has(src)) {
      let value = null;
      try {
        const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
        const view = new DataView(bytes.buffer), latin = new TextDecoder('latin1');
        for (let at = 8; at + 12 <= bytes.length;) {
          const length = view.getUint32(at), type = latin.decode(bytes.subarray(at + 4, at + 8));
          if (type === 'tEXt') {
            const data = bytes.subarray(at + 8, at + 8 + length), zero = data.indexOf(0);
            if (latin.decode(data.subarray(0, zero)) === 'MinTextPx')
              value = parseFloat(latin.decode(data.subarray(zero + 1)));
          }
          if (type === 'IEND') break;
          at += 12 + length;
        }
      } catch (error) { value = null; }
      window.__pngText.set(src, value);
    }
    return window.__pngText.get(src);
  };
  const images = [];
  for (const img of slide.querySelectorAll('img')) {
    if (!shown(img)) continue;
    try { await img.decode(); } catch (error) {}
    const r = img.getBoundingClientRect(), cell = img.closest('[cell-index], .jp-Cell');
    const code = cell && cell.querySelector('.jp-InputArea-editor');
    images.push({natural: [img.naturalWidth, img.naturalHeight], width: r.width,
                 inside: inside(r), minTextPx: img.naturalWidth ? await pngText(img.src) : null,
                 key: img.src.startsWith('data:') ? `${img.src.length}:${img.src.slice(-40)}` : null,
                 what: img.alt ? img.alt.slice(0, 70) : (code ? words(code) : 'a picture')});
  }

  const all = [...document.querySelectorAll('.jupyter-widgets.widget-vbox')].filter(
      el => el.querySelector('.widget-image') && !el.parentElement.closest('.widget-vbox'));
  const explorers = all.filter(el => slide.contains(el) && shown(el)).map(el => {
    const r = el.getBoundingClientRect();
    return {index: all.indexOf(el), box: box(r), inside: inside(r)};
  });

  const slideEnds = !Reveal.availableFragments().next;
  return {at: `${at.h}/${at.v || 0}/${at.f === undefined ? '-' : at.f}`, h: at.h, v: at.v || 0,
          title: words(slide.querySelector('h1, h2, h3') || slide).slice(0, 50),
          zoom: slide.style.zoom || '1', content: content && box(content), room: box(room),
          overflow: scrolls || !content || !inside(content), scrolls, cut, broken,
          smallest, images, explorers, slideEnds, deckEnds: slideEnds && Reveal.isLastSlide()};
}"""

TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"

LINKS = r"""() => [...document.querySelectorAll('.reveal .slides a[href]')]
    .filter(a => /\.ipynb(#|$)/.test(a.getAttribute('href')) &&
                 !/^[a-z][\w+.-]*:/i.test(a.getAttribute('href')))
    .map(a => ({text: a.innerText.trim(), href: a.href}))"""


def explorer_count(path):
    """How many explorers notebook ``path`` shows."""
    calls = re.compile(r"^(?!\s*#).*\b(%s)\s*\(" % "|".join(m.__name__ for m in widgets.EXPLORERS),
                       re.MULTILINE)
    return sum(len(calls.findall(cell.source)) for cell in nbformat.read(path, as_version=4).cells
               if cell.cell_type == "code")


class Series:
    """The Voila server and Chromium walking every deck; ``decks[NN]`` holds what was seen."""

    def __init__(self, browser, home):
        self.browser = browser
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        probe = home / "probe.py"
        probe.write_text(PROBE, encoding="utf-8")
        self.figures = subprocess.Popen([sys.executable, "-c", FIGURE_TEXT], cwd=ROOT,
                                        stdout=subprocess.PIPE, text=True,
                                        env=dict(os.environ, MPLBACKEND="Agg"))
        self.server = Server([sys.executable, "-c", LAUNCH, str(NOTEBOOKS), str(probe),
                              "--no-browser", f"--port={self.port}", "--Voila.port_retries=0",
                              f"--token={self.token}"],
                             f"{self.base}/voila/static/reveal.js-6.0.1/dist/reveal.css",
                             home / "voila.log", cwd=ROOT, timeout=120)
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(240_000)
        self.requests, self.failed = [], []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.on("response", lambda response: (  # what the slides load
            response.status >= 400 and response.request.method == "GET"
            and self.failed.append(f"{response.status} {response.url}")))
        self.context.on("page", lambda page: page.on(
            "websocket", lambda socket: self.requests.append(socket.url)))
        self.decks, self.status, self.links = {}, {}, {}
        self.timings = {}

    def open_own_page(self):
        """What the server's address alone shows (Voila's list of files, by default): the URL
        it lands on; its requests are checked with the rest below."""
        page = self.context.new_page()
        page.goto(f"{self.base}/?token={self.token}", wait_until="commit")
        page.wait_for_selector(".reveal", state="attached")
        landed = page.url
        page.close()
        return landed

    def url(self, path, token=True):
        return f"{self.base}/voila/render/{path.name}" + (f"?token={self.token}" if token else "")

    def open(self, path):
        page = self.context.new_page()
        response = page.goto(self.url(path), wait_until="commit")
        self.status[self.url(path, token=False)] = response.status
        return page

    def ready(self, page, path):
        """Wait until the deck is laid out and its explorers are drawn."""
        page.bring_to_front()
        page.wait_for_selector(".reveal.fitted", state="attached")
        page.wait_for_function("(n) => document.querySelectorAll('.widget-image').length >= n",
                               arg=explorer_count(path))
        page.evaluate("() => Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
        page.evaluate(TWO_FRAMES)

    def walk(self, page, deck):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob(f"{deck}_*.png"):
            old.unlink()
        page.evaluate("() => Reveal.slide(0, 0)")
        page.evaluate(TWO_FRAMES)
        steps = []
        for _ in range(600):
            step = page.evaluate(MEASURE)
            steps.append(step)
            if step["slideEnds"]:
                page.screenshot(path=str(SCREENSHOTS / f"{deck}_{step['h']:02}-{step['v']:02}.png"),
                                animations="disabled")
            if step["deckEnds"]:
                break
            page.keyboard.press("Space")
            page.evaluate(TWO_FRAMES)
        self.decks[deck] = steps
        self.links[deck] = page.evaluate(LINKS)

    def shut_down(self, page):
        """Shut down the deck's kernel, as Voila does when its page closes."""
        kernel = page.evaluate(
            "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
        request = urllib.request.Request(f"{self.base}/voila/api/shutdown/{kernel}", data=b"",
                                         method="POST",
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30):
            pass

    def run(self):
        pages = {deck: self.open(SERIES[DECKS.index(deck)]) for deck in SLOWEST}
        pages[DECKS[0]] = self.open(SERIES[0])
        for k, (deck, path) in enumerate(zip(DECKS, SERIES)):
            start = time.monotonic()
            page = pages.pop(deck)
            self.ready(page, path)
            ahead = [d for d in DECKS[k + 2:k + 3] if d not in pages]
            for later in ahead:  # the deck after next loads while this one is walked
                pages[later] = self.open(SERIES[DECKS.index(later)])
            self.walk(page, deck)
            self.shut_down(page)
            if k == 0:  # deck 01 opens from deck 00's "next" link, clicked
                link = page.locator(f'a[href$="{SERIES[1].name}"]').last
                with page.expect_navigation(wait_until="commit") as navigation:
                    link.click()
                self.status[self.url(SERIES[1], token=False)] = navigation.value.status
                pages[DECKS[1]] = page
            else:
                page.close()
            self.timings[deck] = round(time.monotonic() - start, 1)
        self.own_page = self.open_own_page()
        (SCREENSHOTS / "measures.json").write_text(json.dumps(self.decks, indent=1))
        self.figure_text = {}  # the pictures of img/, by their data: address in the slides
        drawn = json.loads(self.figures.communicate(timeout=120)[0])
        for name, (px, width, height) in drawn.items():
            data = base64.b64encode((ROOT / "img" / name).read_bytes()).decode()
            src = f"data:image/png;base64,{data}"
            self.figure_text[f"{len(src)}:{src[-40:]}"] = px

    def close(self):
        self.context.close()
        self.server.stop()
        if self.figures.poll() is None:
            self.figures.kill()


@pytest.fixture(scope="module")
def series(browser, summary, tmp_path_factory):
    missing = [p for p in ("reveal.js", "jquery", export.FONTAWESOME) if not export.fetch(p)]
    if missing:
        cannot_run(summary, f"{', '.join(missing)} could not be fetched from the npm registry")
    walked = Series(browser, tmp_path_factory.mktemp("slides"))
    start = time.monotonic()
    try:
        walked.run()
    finally:
        walked.close()
    summary.add(f"live slides: {sum(map(len, walked.decks.values()))} steps in "
                f"{len(walked.decks)} decks, {time.monotonic() - start:.0f} s "
                f"(per deck: {walked.timings})")
    return walked


def problems(series, deck, check):
    """``check(step)`` -> a list of problems; every problem, with the slide it is on."""
    return [f"slide {step['at']} {step['title']!r}: {problem}"
            for step in series.decks[deck] for problem in check(step)]


@pytest.mark.parametrize("deck", DECKS)
def test_every_slide_fits_a_1024x768_screen(series, deck):
    def check(step):
        if step["overflow"]:
            yield (f"content {step['content']} outside the slide {step['room']}"
                   + (" (it scrolls)" if step["scrolls"] else ""))
    assert problems(series, deck, check) == []


@pytest.mark.parametrize("deck", DECKS)
def test_no_text_is_smaller_than_10px(series, deck):
    def check(step):
        if step["smallest"]["px"] < MIN_TEXT_PX:
            yield f"{step['smallest']['px']:.1f} px: {step['smallest']['text']!r}"
    assert problems(series, deck, check) == []


@pytest.mark.parametrize("deck", DECKS)
def test_nothing_is_cut_or_broken_mid_word(series, deck):
    def check(step):
        yield from (f"cut: {what}" for what in step["cut"])
        yield from (f"broken across lines: {word!r}" for word in step["broken"])
    assert sorted(set(problems(series, deck, check))) == []


@pytest.mark.parametrize("deck", DECKS)
def test_every_picture_shows(series, deck):
    def check(step):
        yield from (f"picture does not decode: {image['what']!r}" for image in step["images"]
                    if not image["natural"][0])
    assert problems(series, deck, check) == []


def figure_text(series, image):
    """The smallest text of ``image`` on screen, in px, or None when it cannot be measured."""
    native = image["minTextPx"]
    if native is None:  # a picture from img/, drawn again with the probe
        native = series.figure_text.get(image["key"])
    return None if native is None else native * image["width"] / image["natural"][0]


@pytest.mark.parametrize("deck", DECKS)
def test_the_text_in_every_figure_is_at_least_10px(series, deck):
    """A figure's own text, as drawn in its PNG, times the scale the PNG is shown at."""
    smallest = {}
    for step in series.decks[deck]:
        for image in step["images"]:
            px = figure_text(series, image)
            key = image["what"]
            if px is None or px < smallest.get(key, (float("inf"),))[0]:
                smallest[key] = (px if px is not None else -1, step["at"], image)
    too_small = [f"{what!r} (slide {at}): text {px:.1f} px on screen "
                 f"({image['natural'][0]} px wide, shown at {image['width']:.0f})"
                 if px >= 0 else f"{what!r} (slide {at}): its text size cannot be measured"
                 for what, (px, at, image) in smallest.items() if px < MIN_TEXT_PX]
    assert too_small == []


@pytest.mark.parametrize("deck", DECKS)
def test_every_explorer_is_on_screen(series, deck):
    steps = series.decks[deck]
    seen = {e["index"] for step in steps for e in step["explorers"] if e["inside"]}
    assert len(seen) >= explorer_count(SERIES[DECKS.index(deck)]), \
        f"explorers fully on screen: {sorted(seen)}"
    assert problems(series, deck, lambda step: [
        f"explorer {e['index']} at {e['box']}, outside the window"
        for e in step["explorers"] if not e["inside"]]) == []


def test_links_open_the_neighbouring_decks(series):
    for k, deck in enumerate(DECKS):
        links = series.links[deck]
        assert links, f"deck {deck} has no links to other notebooks"
        for link in links:
            target = link["href"].split("#")[0]
            assert target.startswith(f"{series.base}/voila/render/"), link
            assert (NOTEBOOKS / target.rsplit("/", 1)[1]).is_file(), link
        wanted = {"←": DECKS[k - 1] if k else None,
                  "→": DECKS[k + 1] if k + 1 < len(DECKS) else None}
        for arrow, neighbour in wanted.items():
            found = {link["href"].split("#")[0] for link in links if arrow in link["text"]}
            if neighbour is None:
                assert not found, f"deck {deck}: {arrow} links to {found}"
                continue
            url = series.url(SERIES[DECKS.index(neighbour)], token=False)
            assert found == {url}, f"deck {deck}: {arrow} links to {found}, not {url}"
            assert series.status.get(url) == 200, f"{url} answered {series.status.get(url)}"


def test_the_address_alone_opens_the_contents_deck(series):
    """Not Voila's list of files, which asks a CDN for its icons and the server for an API it
    does not serve."""
    assert series.own_page.split("?")[0] == series.url(SERIES[0], token=False), series.own_page


def test_no_request_leaves_this_computer(series):
    local = (f"http://127.0.0.1:{series.port}/", f"ws://127.0.0.1:{series.port}/", "data:", "blob:")
    assert [url for url in series.requests if not url.startswith(local)] == []
    assert series.failed == []  # and everything asked for is there (Font Awesome's fonts too)
