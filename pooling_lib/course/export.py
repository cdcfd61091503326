"""Export the notebooks to share after class, and present them live as slides.

Usage (from the repository folder, with the course's environment):
    python -m pooling_lib.course.export                  every notebook -> exports/NN_name.html (a page) and
                                            exports/NN_name.slides.html (reveal.js slides), and
                                            exports/index.html, a contents page linking them all
    python -m pooling_lib.course.export 02 05            only these notebooks (a number or a path)
    python -m pooling_lib.course.export --live 02        present notebook 02 as live slides in the browser:
                                            Voila's reveal template, the sliders redraw as in
                                            JupyterLab (Ctrl+C in the terminal stops it); it
                                            serves this computer only (127.0.0.1), every notebook
                                            of the folder at /voila/render/NN_name.ipynb, so the
                                            links to the previous and next notebook open their
                                            slides; Voila's own options follow, e.g. --port=8866
                                            --no-browser

Every exported file stands alone and opens offline, from a USB stick or a course page: the
pictures are embedded, and so are reveal.js (slides) and MathJax (formulas). The explorers'
sliders need a running Python, so an export shows the picture of each explorer's first
state (the one right before it in the notebook) and a link that opens the notebook on Binder.

reveal.js and MathJax (and, for live slides, jQuery and Font Awesome, the Play button's
icons) are fetched once from the npm registry, checked against the hashes below, and kept in
exports/.vendor/. Without them, the pages are still written (formulas then show as TeX), the
slides are not, and the command says so; live slides then take them from the web.

Slides, static and live, are made for a 1024x768 projector (SLIDE): JupyterLab's cells
without their prompts, and every slide fitted to the screen in the browser (FIT_SLIDES): a
slide too long for one screen goes on in a subslide, a cell too wide is made smaller, and no
text is made smaller than 10 screen pixels.

Live slides differ from the notebook in three ways, all made on the fly: the markdown
pictures are embedded (Voila only serves files beside the notebook, ours are in ../img) and
links to other files of the repository open them on GitHub, the picture of an explorer's
first state gives its place to the live explorer, and arrow keys pressed on a slider move
the slider, not the slides.
"""
import argparse
import base64
import copy
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter, SlidesExporter

from . import navigation
from .repo import EXPORTS, NOTEBOOKS, ROOT, repository

# npm package -> (version, integrity from the registry, the files we use).
# reveal.js 6.0.1 is the version Voila 0.5.13 bundles, so live and static slides look alike.
VENDOR = {
    "reveal.js": ("6.0.1",
                  "sha512-9eacArNIgqO2HGWOK+93gJNn+gvdGDVbSq+i2u3Ja9kjiHps0XNLpgYTZTYjKRH91uXy3clGimeGiw4umHG/tg==",
                  ("LICENSE", "dist/reveal.css", "dist/theme/white.css", "dist/reveal.js",
                   "dist/plugin/notes.js")),
    "mathjax": ("3.2.2",
                "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
                ("LICENSE", "es5/tex-svg-full.js")),
    "jquery": ("3.7.1",  # Voila's reveal template loads jQuery
               "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
               ("LICENSE.txt", "dist/jquery.min.js")),
    "@fortawesome/fontawesome-free": (  # the icons of the Play widget, in live slides
        "5.15.4",
        "sha512-eYm8vijH/hpzr/6/1CJ/V/Eb1xQFW2nnUKArb3z+yUWv7HTwj6M7SP957oMjfZjAHU6qpoNc2wQvIxBLWYa/Jg==",
        ("LICENSE.txt", "css/all.min.css", "css/v4-shims.min.css",
         *(f"webfonts/fa-{face}.{kind}" for face in ("brands-400", "regular-400", "solid-900")
           for kind in ("woff2", "woff")))),
}
FONTAWESOME = "@fortawesome/fontawesome-free"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BADGE_IMAGE = re.compile(r"\[!\[([^\]]*)\]\((?:https://mybinder\.org/badge_logo\.svg|"
                         r"https://colab\.research\.google\.com/assets/colab-badge\.svg)\)\]\(([^)\s]+)\)")
NOTEBOOK_LINK = re.compile(r"\]\((\d\d_[^)\s#]+)\.ipynb(#[^)\s]*)?\)")
FILE_LINK = re.compile(r"(\]\(\s*<?|href=[\"'])([^)\s>\"']+)")  # [text](target), href="target"
MARKDOWN_IMAGE = re.compile(r"(!\[[^\n]*?\]\(\s*<?)([^)\s>]+)")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)


# --- vendored scripts: fetched once from the npm registry ----------------------------------------

def vendor_dir(package, root=None):
    version = VENDOR[package][0]
    name = package.lstrip("@").replace("/", "-")  # @scope/name -> scope-name
    return Path(root or EXPORTS / ".vendor") / f"{name}-{version}"


def fetch(package, root=None, log=print):
    """The folder holding ``package``'s files (see VENDOR), fetching them from the npm registry
    when they are not there yet; None (and a message) when they cannot be had."""
    version, integrity, files = VENDOR[package]
    folder = vendor_dir(package, root)
    if all((folder / name).is_file() for name in files):
        return folder
    spec = f"{package}@{version}"
    log(f"fetching {spec} from the npm registry with npm (once; kept in {folder})")
    try:
        with tempfile.TemporaryDirectory() as scratch:
            packed = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", scratch],
                                    capture_output=True, text=True, timeout=300, check=True)
            data = (Path(scratch) / packed.stdout.strip().splitlines()[-1]).read_bytes()
    except (OSError, subprocess.SubprocessError, IndexError) as error:
        log(f"could not fetch {spec} with npm: {error}")
        return None
    algorithm, expected = integrity.split("-", 1)
    if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != expected:
        log(f"{spec} does not match its recorded {algorithm} hash: not used")
        return None
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for name in files:
            member = archive.extractfile(f"package/{name}")
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            (partial / name).write_bytes(member.read())
    if folder.exists() and not all((folder / name).is_file() for name in files):
        shutil.rmtree(folder, ignore_errors=True)  # from an older list of files
    try:
        partial.rename(folder)  # all at once: a half-written folder is never seen
    except OSError:  # another run got there first
        shutil.rmtree(partial, ignore_errors=True)
    return folder if all((folder / name).is_file() for name in files) else None


def inline_script(text):
    """JavaScript made safe to sit between <script> tags."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


# --- the notebook, made ready to share ------------------------------------------------------------

def notebook_number(path):
    return Path(path).name[:2]


def binder_url(name):
    """The Binder address that opens notebook ``name`` in JupyterLab."""
    return re.search(r"\((https://mybinder\.org/v2/[^)]+)\)",
                     navigation.badge(f"notebooks/{name}")).group(1)


def has_math(nb):
    return any(c.cell_type == "markdown" and MATH.search(c.source) for c in nb.cells)


def without_remote_badge(source):
    """Launch badges (Binder, Colab) as plain links: their pictures are on the web, the links
    work anywhere."""
    return BADGE_IMAGE.sub(lambda m: f"[&#9654; {m.group(1)}]({m.group(2)})", source)


def inline_images(nb, folder):
    """``nb`` with its markdown pictures (paths relative to ``folder``) written in as data: URIs,
    and Binder badges as links. (nbconvert and Voila embed only pictures inside the notebook's
    folder; ours are in ../img.)"""
    nb = copy.deepcopy(nb)

    def data_uri(match):
        target = match.group(2)
        file = (Path(folder) / target).resolve()
        if re.match(r"[a-zA-Z][\w+.-]*:", target) or not file.is_file():
            return match.group(0)
        kind = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}.get(
            file.suffix.lower(), "image/jpeg")
        data = base64.b64encode(file.read_bytes()).decode()
        return match.group(1) + f"data:{kind};base64,{data}"

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = MARKDOWN_IMAGE.sub(data_uri, without_remote_badge(cell.source))
    return nb


def github_url(target, folder):
    """The GitHub address of repository file ``target`` (relative to ``folder``), or None."""
    file = (Path(folder) / target.split("#")[0]).resolve()
    if not file.is_relative_to(ROOT) or not file.exists():
        return None
    anchor = "#" + target.split("#", 1)[1] if "#" in target else ""
    return (f"https://github.com/{repository()}/blob/HEAD/"
            f"{file.relative_to(ROOT).as_posix()}{anchor}")


def shared_links(source, folder, suffix):
    """Markdown ``source`` with links to notebooks of the series pointed at their exports
    (``NN_name{suffix}``), and links to other files of the repository at GitHub."""
    source = NOTEBOOK_LINK.sub(lambda m: f"]({m.group(1)}{suffix}{m.group(2) or ''})", source)

    def to_github(match):
        target = match.group(2)
        if re.match(r"[a-zA-Z][\w+.-]*:|#|//|\d\d_[^/#]+" + re.escape(suffix) + r"(#|$)", target):
            return match.group(0)  # an address, an anchor, or the export of a notebook
        url = github_url(target, folder)
        return match.group(1) + url if url else match.group(0)
    return FILE_LINK.sub(to_github, source)


def for_sharing(nb, path, suffix):
    """A copy of notebook ``nb`` (read from ``path``) for a static export whose files end in
    ``suffix``: pictures embedded, explorers replaced by a note (their picture is right before
    them), a widget with HTML of its own (a self-check) by that HTML, badges as links, links to other notebooks pointed at their exports."""
    name = Path(path).name
    nb = inline_images(nb, Path(path).parent)  # nbconvert embeds only pictures beside the notebook
    nb.metadata.pop("widgets", None)  # saved widget state would need the widgets' script
    note = ('<p class="live-note"><em>Live explorer:</em> the picture above shows its first '
            'state. To move its sliders, open this notebook in JupyterLab or '
            f'<a href="{html.escape(binder_url(name))}">on Binder</a>.</p>')
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = shared_links(cell.source, Path(path).parent, suffix)
        elif cell.cell_type == "code":
            outputs = []
            for output in cell.outputs:
                if WIDGET_VIEW in output.get("data", {}):  # a widget's own static face, if it
                    static = output["data"].get("text/html", note)  # has one (the self-checks)
                    output = nbformat.v4.new_output("display_data", data={"text/html": static})
                outputs.append(output)
            cell.outputs = outputs
    return nb


# --- slides for a 1024x768 projector --------------------------------------------------------------

# reveal.js lays every slide out at this size (CSS pixels) and scales it to the screen: at
# 1024x768, a classroom projector, by 0.96 (the margin). Text sizes below are for that size.
SLIDE = {"width": 1024, "height": 768}
SLIDE_MARGIN = 0.04


def reveal_options():
    """reveal.js's settings for the course's slides, static and live."""
    return {"controls": True, "progress": True, "history": True, "center": True,
            "transition": "slide", **SLIDE, "margin": SLIDE_MARGIN,
            "minScale": 0.2, "maxScale": 2.0}


SLIDE_STYLE = """<style>
/* The course's slides (SLIDE in pooling_lib/course/export.py): JupyterLab's cells without
   their prompts, text sized for a 1024x768 slide. */
:root {
  --jp-content-font-size1: 18px;
  --jp-ui-font-size1: 17px;
  --jp-code-font-size: 16px;
  --jp-widgets-font-size: 16px;
}
.reveal .slides { text-align: left; }
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt { display: none; }
.reveal pre { box-sizing: border-box; }
.reveal .jp-Cell { padding: 3px 5px; }
.reveal .jp-RenderedHTMLCommon :is(h1, h2, h3) { margin: 0.2em 0 0.5em; }
.reveal .jp-RenderedHTMLCommon :is(p, ul, ol) { margin-top: 0.5em; margin-bottom: 0.5em; }
.reveal section img { margin: 6px 0; }
/* nothing scrolls inside a slide: a wide cell is made smaller instead (FIT_SLIDES) */
.reveal .jp-CodeMirrorEditor, .reveal .jp-InputArea-editor pre, .reveal .jp-RenderedMarkdown,
.reveal .jp-OutputArea-output pre { overflow: visible; }
/* printed text keeps its lines (tables stay aligned); when making it smaller would make it
   unreadable, it wraps, between words only */
.reveal .jp-RenderedText pre { white-space: pre; word-break: normal; overflow-wrap: normal; }
.reveal .jp-RenderedText pre[data-fit-wrap] { white-space: pre-wrap; }
.reveal section[data-fit-overflow] { overflow-y: auto; }
/* a widget's label is never cut short ("epoch 15/…"): it takes the width its text needs,
   and a slider keeps a track long enough to drag */
.reveal .widget-inline-hbox > .widget-label { width: auto !important; max-width: none;
  min-width: var(--jp-widgets-inline-label-width); flex-shrink: 0; }
.reveal .jupyter-widgets.widget-hslider { width: auto !important; }
.reveal .widget-hslider .slider-container { flex: 0 0 120px; }
/* reveal.js's arrows sit on the slide's bottom right corner: faint, so the text under them
   stays readable, until the mouse comes near */
.reveal .controls { opacity: 0.35; transition: opacity 0.2s; }
.reveal .controls:hover { opacity: 1; }
/* reveal.js hides its own .progress bar: a progress widget's bar is not that one */
.reveal .jupyter-widgets .progress { display: block; position: relative; width: auto;
  height: auto; bottom: auto; left: auto; z-index: auto; }
</style>"""

# Speaker notes belong to their slide. nbconvert nests a notes cell inside the fragment before
# it, and reveal.js's speaker view shows the notes inside a fragment only while that fragment is
# the current one (and none before it): lift them out, so they show for the whole slide.
NOTES_FOR_THE_WHOLE_SLIDE = """\
document.querySelectorAll('.reveal .slides section aside.notes').forEach(
  notes => notes.closest('section').appendChild(notes));"""

# Every slide fits the screen. Once the page has settled (Voila has drawn the outputs, the
# pictures are decoded), a slide that would have to be made smaller than SPLIT_BELOW of its
# size to fit a 1024x768 screen goes on in a new subslide, cut between two cells where the
# taller part is least tall; what comes first in the new subslide shows with it, not one step
# later. (The cut is worked out for a screen the slide's size, whatever the screen, so the
# speaker view cuts the same way.) Then, on the slide shown: a cell wider than the slide (a
# long line of code, a wide table) is made smaller, and a slide still taller than the screen
# is made smaller as a whole (CSS zoom: its text reflows into the width it gains), as little
# as it takes, but never so far that text would show smaller than MIN_TEXT screen pixels:
# such a slide stops there and scrolls. Fitted again when the window changes size or the
# slide's content does (widgets appear, a picture redraws, a hint opens). When all this is
# done, .reveal gets the class "fitted".
FIT_SLIDES = """<script>
(function () {
  var MIN_TEXT = 10, SPLIT_BELOW = 0.75;
  var BLOCKS = ".jp-InputArea-editor, .jp-OutputArea-output, .jp-RenderedMarkdown";

  function displayed(el) { return el.getClientRects().length > 0; }
  function leaves() {
    return Array.prototype.filter.call(document.querySelectorAll(".reveal .slides section"),
                                       function (s) { return !s.querySelector("section"); });
  }
  function parts(section) {  // the cells (or groups of cells shown together) of a slide
    return Array.prototype.filter.call(section.children, function (child) {
      return !/^(SECTION|ASIDE|SCRIPT|STYLE)$/.test(child.tagName);
    });
  }
  function scaleOf(el) {  // screen pixels per CSS pixel of el's own layout
    while (el && !(el.offsetWidth > 0)) el = el.parentElement;
    return el ? el.getBoundingClientRect().width / el.offsetWidth : 1;
  }
  function smallestText(root) {  // the smallest text inside root, in CSS pixels of root
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT), seen = new Set();
    var least = Infinity, unit = scaleOf(root), node, el;
    while ((node = walker.nextNode())) {
      el = node.parentElement;
      if (!el || seen.has(el) || !node.nodeValue.trim()) continue;
      seen.add(el);
      if (el.closest("script, style, aside.notes") || !displayed(el)) continue;
      least = Math.min(least, parseFloat(getComputedStyle(el).fontSize) * scaleOf(el) / unit);
    }
    return least;
  }
  function floor(root, scale) {  // the smallest zoom of root that keeps its text readable
    return Math.min(1, MIN_TEXT / (smallestText(root) * scale));
  }

  function reset(section) {
    section.style.zoom = section.style.height = "";
    section.removeAttribute("data-fit-overflow");
    section.querySelectorAll("[data-fit-zoom]").forEach(function (el) {
      el.style.zoom = ""; el.removeAttribute("data-fit-zoom");
    });
    section.querySelectorAll("[data-fit-wrap]").forEach(function (el) {
      el.removeAttribute("data-fit-wrap");
    });
  }
  function fitWidth(section, scale) {
    section.querySelectorAll(BLOCKS).forEach(function (block) {
      var wide = function () { return block.scrollWidth > block.clientWidth + 1; };
      if (!displayed(block) || !wide()) return;
      var least = floor(block, scale), need = block.clientWidth / block.scrollWidth;
      if (need < least) {  // printed lines that small would be unreadable: they wrap instead
        block.querySelectorAll(".jp-RenderedText pre").forEach(function (pre) {
          pre.setAttribute("data-fit-wrap", "");
        });
        if (!wide()) return;
        need = block.clientWidth / block.scrollWidth;
      }
      block.style.zoom = Math.max(need, least);
      block.setAttribute("data-fit-zoom", "");
    });
  }
  function fitHeight(section, height, scale) {
    var fits = function (z) {
      section.style.zoom = z < 1 ? z : "";
      return section.scrollHeight * z <= height;
    };
    if (fits(1)) return;
    var lo = floor(section, scale), hi = 1;
    if (!fits(lo)) {  // as small as it may be, and it scrolls
      section.setAttribute("data-fit-overflow", "");
      section.style.height = height / lo + "px";
      return;
    }
    for (var k = 0; k < 10; k++) { var m = (lo + hi) / 2; if (fits(m)) lo = m; else hi = m; }
    fits(lo);
  }
  function fit(section) {
    if (!section || !displayed(section) || Reveal.isOverview()) return;
    reset(section);
    fitWidth(section, Reveal.getScale());
    fitHeight(section, Reveal.getConfig().height, Reveal.getScale());
  }

  function split(section, height, scale) {
    reset(section);
    fitWidth(section, scale);
    var cells = parts(section), total = section.scrollHeight;
    if (total * Math.max(SPLIT_BELOW, floor(section, scale)) <= height || cells.length < 2) {
      reset(section);
      return;
    }
    var cut = 1, tallest = Infinity;
    for (var i = 1; i < cells.length; i++) {
      var above = cells[i - 1].offsetTop + cells[i - 1].offsetHeight;
      var part = Math.max(above, total - cells[i].offsetTop);
      if (part < tallest) { tallest = part; cut = i; }
    }
    reset(section);
    var next = document.createElement("section");
    next.setAttribute("data-continued", "");
    cells.slice(cut).forEach(function (cell) { next.appendChild(cell); });
    next.firstElementChild.classList.remove("fragment");  // it comes with its subslide
    if (section.parentElement.tagName !== "SECTION") {  // a slide becomes a stack of subslides
      var stack = document.createElement("section");
      section.before(stack);
      stack.appendChild(section);
    }
    section.after(next);
    split(section, height, scale);
    split(next, height, scale);
  }
  function splitAll() {
    var shown = Reveal.getCurrentSlide(), height = Reveal.getConfig().height;
    var scale = 1 - Reveal.getConfig().margin;  // on a screen the slide's size
    leaves().forEach(function (section) {
      var hidden = [section, section.parentElement].map(function (el) {
        var display = el.style.display;
        el.style.display = "block";
        return [el, display];
      });
      split(section, height, scale);
      hidden.forEach(function (saved) { saved[0].style.display = saved[1]; });
    });
    Reveal.sync();
    var at = Reveal.getIndices(shown);
    Reveal.slide(at.h, at.v);
  }

  var pending = false;
  function refit() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      fit(Reveal.getCurrentSlide());
      Reveal.layout();
    });
  }
  function settled() {  // Voila has drawn every output, and every picture is decoded
    return !document.querySelector('script[type="application/vnd.voila.cell-output+json"]') &&
      Array.prototype.every.call(document.images, function (img) { return img.complete; }) &&
      (!document.fonts || document.fonts.status === "loaded");
  }
  function start() {
    var watch = new ResizeObserver(function (entries) {
      var current = Reveal.getCurrentSlide();
      if (entries.some(function (e) { return current && current.contains(e.target); })) refit();
    });
    leaves().forEach(function (section) {
      parts(section).forEach(function (cell) { watch.observe(cell); });
    });
    Reveal.on("slidechanged", function (event) { fit(event.currentSlide); Reveal.layout(); });
    Reveal.on("resize", refit);
    Reveal.on("overviewhidden", refit);
    refit();
    var waited = 0, poll = setInterval(function () {
      waited += 100;
      if (!settled() && waited < 30000) return;
      clearInterval(poll);
      splitAll();
      fit(Reveal.getCurrentSlide());
      Reveal.layout();
      document.querySelector(".reveal").classList.add("fitted");
    }, 100);
  }
  if (Reveal.isReady()) start(); else Reveal.on("ready", start);
})();
</script>"""


# --- templates: nbconvert's, with every remote script left out ------------------------------------

MATHJAX = """
<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
        displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true, processEnvironments: true},
  svg: {fontCache: 'global'}
};
</script>
<script>{{ resources.offline.mathjax }}</script>
"""

MATHJAX_BLOCK = "{% if resources.offline.mathjax %}" + MATHJAX + "{% endif %}"

STYLE = """
<style>
.live-note { padding: 0.4em 0.8em; border-left: 4px solid #0072B2; background: #f4f8fb; }
</style>
"""

TEMPLATES = {
    "offline_page.html.j2": """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}""" + MATHJAX_BLOCK + """{%- endblock html_head_js_mathjax -%}
{%- block html_head_css -%}""" + STYLE + """{%- endblock html_head_css -%}
""",
    "offline_slides.html.j2": """{%- extends 'reveal/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}""" + MATHJAX_BLOCK + """{%- endblock html_head_js_mathjax -%}
{%- block html_head_css -%}""" + STYLE + "{% raw %}" + SLIDE_STYLE + "{% endraw %}" + """
{%- endblock html_head_css -%}
{%- block footer_js -%}
<script>{{ resources.offline.reveal_js }}</script>
<script>{{ resources.offline.notes_js }}</script>
<script>
""" + "{% raw %}" + NOTES_FOR_THE_WHOLE_SLIDE + "{% endraw %}" + """
Reveal.initialize(Object.assign({{ resources.offline.options }}, {plugins: [RevealNotes]}));
</script>
""" + "{% raw %}" + FIT_SLIDES + "{% endraw %}" + """
{%- endblock footer_js -%}
""",
}

REVEAL_PREFIX = "reveal-offline-prefix"  # stands for reveal.js's folder; its CSS links get inlined


def exporter(kind):
    """nbconvert's HTML ("page") or reveal.js ("slides") exporter with our templates."""
    options = dict(extra_loaders=[DictLoader(TEMPLATES)])
    if kind == "page":
        return HTMLExporter(template_file="offline_page.html.j2", **options)
    return SlidesExporter(template_file="offline_slides.html.j2", reveal_url_prefix=REVEAL_PREFIX,
                          reveal_theme="white", reveal_transition="slide", **options)


def inline_reveal_css(body, reveal):
    """Replace the <link>s to reveal.js's style sheets by the style sheets themselves."""
    def style(match):
        css = (reveal / match.group(1)).read_text(encoding="utf-8")
        return f"<style>\n{css}\n</style>"
    return re.sub(rf'<link\b[^>]*\bhref="{REVEAL_PREFIX}/([^"]+)"[^>]*>', style, body)


def export_notebook(path, out, vendor, log=print):
    """Write ``out/NAME.html`` and (with reveal.js) ``out/NAME.slides.html``; returns the paths."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    math = has_math(nb)
    mathjax = vendor.get("mathjax")

    def script(folder, name):
        return inline_script((folder / name).read_text(encoding="utf-8"))

    offline = {"mathjax": script(mathjax, "es5/tex-svg-full.js") if math and mathjax else ""}
    resources = {"metadata": {"name": path.stem, "path": str(path.parent)}, "offline": offline}
    written = []
    page, _ = exporter("page").from_notebook_node(for_sharing(nb, path, ".html"),
                                                  resources=copy.deepcopy(resources))
    target = out / f"{path.stem}.html"
    target.write_text(page, encoding="utf-8")
    written.append(target)
    reveal = vendor.get("reveal.js")
    if reveal:
        offline["reveal_js"] = script(reveal, "dist/reveal.js")
        offline["notes_js"] = script(reveal, "dist/plugin/notes.js")
        offline["options"] = json.dumps(reveal_options())
        slides, _ = exporter("slides").from_notebook_node(
            for_sharing(nb, path, ".slides.html"), resources=resources)
        target = out / f"{path.stem}.slides.html"
        target.write_text(inline_reveal_css(slides, reveal), encoding="utf-8")
        written.append(target)
    if math and not mathjax:
        log(f"{path.name}: MathJax is missing, so its formulas show as TeX")
    return written


def index_page(paths, out, slides=True):
    """exports/index.html: the series, each notebook as a page and as slides."""
    rows = []
    for path in paths:
        links = [f'<a href="{path.stem}.html">page</a>']
        if slides:
            links.append(f'<a href="{path.stem}.slides.html">slides</a>')
        rows.append(f"<li>{html.escape(navigation.title(path))}: {' · '.join(links)}</li>")
    text = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Pooling, step by step</title>"
            "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.6}"
            "</style></head>\n<body><h1>Pooling, step by step</h1>\n<ul>\n"
            + "\n".join(rows) + "\n</ul>\n<p>Slides: arrow keys to move, S for speaker notes, "
            "Esc for an overview.</p>\n</body></html>\n")
    target = out / "index.html"
    target.write_text(text, encoding="utf-8")
    return target


def export(paths=None, out=EXPORTS, vendor_root=None, log=print):
    """Export ``paths`` (default: the whole series) into ``out``; returns the files written."""
    paths = [Path(p) for p in (paths or navigation.series(NOTEBOOKS))]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vendor = {}
    for package in ("reveal.js", "mathjax"):
        if package == "mathjax" and not any(has_math(nbformat.read(p, as_version=4))
                                            for p in paths):
            continue
        vendor[package] = fetch(package, vendor_root or EXPORTS / ".vendor", log)
    written = []
    for path in paths:
        written += export_notebook(path, out, vendor, log)
    written.append(index_page(navigation.series(NOTEBOOKS) if out == EXPORTS else paths, out,
                              slides=bool(vendor.get("reveal.js"))))
    if not vendor.get("reveal.js"):
        log("reveal.js is missing, so no slides were written; run this again when the npm "
            "registry can be reached")
    return written


# --- live slides with Voila -----------------------------------------------------------------------

def for_live(nb, folder):
    """A copy of notebook ``nb`` (in ``folder``) for live slides: pictures embedded, links to
    other files of the repository pointed at GitHub (links to notebooks of the series stay
    relative: Voila serves them beside this one), and the picture of each explorer's first
    state left out, since the live explorer comes right after it (the explorer takes over its
    place in the slides)."""
    nb = copy.deepcopy(nb)
    cells = []
    for k, cell in enumerate(nb.cells):
        shown = explorer_picture(cell)
        after = [c for c in nb.cells[k + 1:k + 3] if c.cell_type == "code"]
        if shown and any(re.search(rf"\b{shown}\s*\(", c.source) for c in after):
            kind = cell.metadata.get("slideshow", {}).get("slide_type")
            following = after[0].metadata.setdefault("slideshow", {})
            if kind in ("slide", "subslide") and \
                    following.get("slide_type") in ("-", "fragment", None):
                following["slide_type"] = kind
            continue
        cells.append(cell)
    nb.cells = cells
    nb = inline_images(nb, folder)  # first: the links below leave data: addresses alone
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = shared_links(cell.source, folder, ".ipynb")
    return nb


def explorer_picture(cell):
    """``name`` if ``cell`` is a markdown cell holding only the picture ``img/name.png``."""
    if cell.cell_type != "markdown":
        return None
    match = re.fullmatch(r"\s*!\[[^\n]*?\]\(\s*<?[^)\s>]*?img/(\w+)\.png>?\)\s*",
                         cell.source)
    return match and match.group(1)


FONTAWESOME_CDN = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@^5"
# Voila's own pages (its list of files at /, error pages) load Font Awesome 4 from a CDN.
VOILA_PAGE_FONTAWESOME = ('<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/'
                          'font-awesome@4.5.0/css/font-awesome.min.css" type="text/css" />')

# Voila's reveal template, with Font Awesome (the icons of the Play widget) from this server,
# the slides' style, and reveal.js started with the course's slide size (Voila's own start
# passes only width and height on). Without our copy of reveal.js, Voila's start is kept.
LIVE_TEMPLATE = """{%- extends 'voila/templates/reveal/index.html.j2' -%}
{%- from 'voila_setup.macro.html.j2' import voila_setup with context -%}
{%- block notebook_css -%}
{%- set voila_css -%}{{ super() }}{%- endset -%}
{%- if resources.course.fontawesome -%}
{{ voila_css | replace('""" + FONTAWESOME_CDN + """',
                       resources.base_url ~ 'voila/static/' ~ resources.course.fontawesome) }}
{%- else -%}
{{ voila_css }}
{%- endif %}
""" + "{{ resources.course.style }}" + """
{%- endblock notebook_css -%}
{%- block footer_js -%}
{%- if resources.course.reveal -%}
{{ voila_setup(resources.base_url, resources.labextensions) }}
{%- set reveal_dir = resources.base_url ~ 'voila/static/' ~ resources.course.reveal %}
<script src="{{ reveal_dir }}/dist/reveal.js"></script>
<script src="{{ reveal_dir }}/dist/plugin/notes.js"></script>
<script>
""" + "{% raw %}" + NOTES_FOR_THE_WHOLE_SLIDE + "{% endraw %}" + """
Reveal.initialize(Object.assign({{ resources.course.options }}, {plugins: [RevealNotes]}));
</script>
{{ resources.course.fit }}
{%- else -%}
{{ super() }}
{%- endif %}
{{ resources.course.widget_keys }}
{%- endblock footer_js -%}
"""

# Reveal.js moves to the next slide on the arrow keys, even while a slider has the focus.
KEEP_KEYS_IN_WIDGETS = """<script>
document.addEventListener("DOMContentLoaded", function () {
  document.body.addEventListener("keydown", function (event) {
    if (event.target.closest && event.target.closest(".jupyter-widgets")) event.stopPropagation();
  });
});
</script>"""


def offline_voila_page(fontawesome):
    """Voila's base page (its list of files, its error pages) asking this server, not a CDN,
    for Font Awesome: our copy of version 5 (``fontawesome``: its folder's name, or None), with
    the shims that keep version 4's icon names; without a copy, no icons."""
    from jupyter_core.paths import jupyter_path
    page = next(Path(d, "voila", "templates", "base", "page.html") for d in jupyter_path()
                if Path(d, "voila", "templates", "base", "page.html").is_file()).read_text("utf-8")
    css = "{{ base_url }}voila/static/" + f"{fontawesome}/css"
    local = "".join(f'<link rel="stylesheet" href="{css}/{name}" type="text/css" />'
                    for name in ("all.min.css", "v4-shims.min.css")) if fontawesome else ""
    if VOILA_PAGE_FONTAWESOME not in page:
        raise RuntimeError("Voila's page.html no longer loads Font Awesome 4.5 as expected: "
                           "check offline_voila_page")
    return page.replace(VOILA_PAGE_FONTAWESOME, local)


def live_app(folder, deck=None, vendor_root=None, log=print):
    """``(app class, config)`` that serve the notebooks of ``folder`` as live reveal.js slides
    with Voila, each at ``/voila/render/NAME.ipynb``; the browser opens ``deck`` (a file name)."""
    import webbrowser
    from urllib.parse import quote
    from jupyter_server.utils import url_path_join
    from jupyter_server.base.handlers import path_regex
    from traitlets.config import Config
    from voila.app import Voila

    folder = Path(folder).resolve()
    vendor = {package: fetch(package, vendor_root or EXPORTS / ".vendor", log)
              for package in ("reveal.js", "jquery", FONTAWESOME)}
    reveal, jquery, fontawesome = (vendor[p] for p in ("reveal.js", "jquery", FONTAWESOME))
    config = Config()
    config.VoilaConfiguration.template = "reveal"
    config.VoilaConfiguration.strip_sources = False  # show the code, as in class
    config.VoilaConfiguration.prelaunch_hook = \
        lambda handler, notebook, cwd: for_live(notebook, folder / cwd)
    options = {"theme": "white", "transition": "slide", **SLIDE}
    if reveal:  # reveal.js's style sheets from here, not from a CDN
        options["url_prefix"] = f"/voila/static/{reveal.name}"
    else:
        log("reveal.js's style sheets will come from the web (unpkg.com)")
    if not fontawesome:
        log("Font Awesome (the Play button's icons) will come from the web (cdn.jsdelivr.net)")
    course = {"style": SLIDE_STYLE, "fit": FIT_SLIDES, "widget_keys": KEEP_KEYS_IN_WIDGETS,
              "options": json.dumps(reveal_options()),
              "reveal": reveal.name if reveal else "",
              "fontawesome": fontawesome.name if fontawesome else ""}
    config.VoilaConfiguration.resources = {"reveal": options, "course": course}
    if jquery:
        config.HTMLExporter.jquery_url = f"/voila/static/{jquery.name}/dist/jquery.min.js"
    served = sorted({str(path.parent) for path in vendor.values() if path})
    templates = tempfile.mkdtemp(prefix="pooling-slides-")
    (Path(templates) / "index.html.j2").write_text(LIVE_TEMPLATE, encoding="utf-8")
    (Path(templates) / "page.html").write_text(  # the file list at / and the error pages
        offline_voila_page(fontawesome.name if fontawesome else None), encoding="utf-8")

    class LiveSlides(Voila):
        def setup_template_dirs(self):
            super().setup_template_dirs()
            self.template_paths.insert(0, templates)  # our index.html.j2 extends Voila's
            self.static_paths.extend(served)  # our copies, at /voila/static/

        def stop(self):
            shutil.rmtree(templates, ignore_errors=True)
            super().stop()

        def init_handlers(self):
            """The address alone opens the contents deck instead of Voila's list of files
            (which asks a CDN for its icons and this server for an API it does not have)."""
            from tornado.web import RedirectHandler
            handlers = super().init_handlers()
            if not (folder / navigation.CONTENTS).is_file():
                return handlers
            home = {"url": url_path_join(self.server_url, "voila/render", navigation.CONTENTS)}
            tree = {self.server_url, url_path_join(self.server_url, r"/voila/tree" + path_regex)}
            return [(route[0], RedirectHandler, home) if route[0] in tree else route
                    for route in handlers]

        @property
        def display_url(self):  # the address printed in the terminal: the deck's
            url, _, query = super().display_url.partition("?")
            page = f"voila/render/{quote(deck)}" if deck else ""
            return url + page + (f"?{query}" if query else "")

        def launch_browser(self):  # the deck itself, not Voila's list of files
            if not deck:
                return super().launch_browser()
            url = f"{self.connection_url}voila/render/{quote(deck)}"
            if self.identity_provider.token:
                url += f"?token={quote(self.identity_provider.token)}"
            opener = Path(templates) / "open.html"  # the token stays out of the command line
            opener.write_text(f'<!DOCTYPE html><meta http-equiv="refresh" content="0;url='
                              f'{html.escape(url)}"><a href="{html.escape(url)}">the slides</a>',
                              encoding="utf-8")
            try:
                browser = webbrowser.get(self.browser or None)
            except webbrowser.Error as error:
                self.log.warning("No web browser found: %s.", error)
                return
            threading.Thread(target=browser.open, args=(opener.as_uri(), 2), daemon=True).start()

    return LiveSlides, config


def present(notebook, argv=(), log=print):
    """Serve the notebooks beside ``notebook`` as live slides on this computer only, and open
    ``notebook``'s in the browser; its links to the other notebooks open their slides."""
    notebook = Path(notebook).resolve()
    app, config = live_app(notebook.parent, notebook.name, log=log)
    app.launch_instance(argv=[str(notebook.parent), *argv, "--Voila.ip=127.0.0.1"],  # last: it wins
                        config=config)


# --- command line ---------------------------------------------------------------------------------

def find(notebook):
    """A notebook path from a path or a number such as ``02``."""
    if Path(notebook).is_file():
        return Path(notebook)
    matches = [p for p in navigation.series(NOTEBOOKS) if notebook_number(p) == notebook.zfill(2)]
    if not matches:
        raise SystemExit(f"no notebook {notebook!r}: give a path or a number such as 02")
    return matches[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="numbers (02) or paths; default: all")
    parser.add_argument("--out", default=str(EXPORTS),
                        help="folder to write into (default: exports)")
    parser.add_argument("--live", metavar="NOTEBOOK",
                        help="present this notebook as live slides (Voila) instead of exporting")
    args, extra = parser.parse_known_args(argv)
    if args.live:
        present(find(args.live), extra)
        return 0
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    written = export([find(n) for n in args.notebooks] or None, Path(args.out))
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0 if any(p.name.endswith(".slides.html") for p in written) else 1


if __name__ == "__main__":
    sys.exit(main())
