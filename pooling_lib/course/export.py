"""Export the notebooks to share after class, and present them live as slides.

Usage (from the repository folder, with the course's environment):
    python -m pooling_lib.course.export                  every notebook -> exports/NN_name.html (a page) and
                                            exports/NN_name.slides.html (reveal.js slides), and
                                            exports/index.html, a contents page linking them all
    python -m pooling_lib.course.export 01 04            only these notebooks (a number or a path)
    python -m pooling_lib.course.export --live 01        present notebook 01 as live slides in the browser:
                                            Voila's reveal template, the sliders redraw as in
                                            JupyterLab (Ctrl+C in the terminal stops it); it
                                            serves this computer only (127.0.0.1); Voila's own
                                            options follow, e.g. --port=8866 --no-browser

Every exported file stands alone and opens offline, from a USB stick or a course page: the
pictures are embedded, and so are reveal.js (slides) and MathJax (formulas). The explorers'
sliders need a running Python, so an export shows the picture of each explorer's first
state (the one right before it in the notebook) and a link that opens the notebook on Binder.

reveal.js and MathJax (and, for live slides, jQuery) are fetched once from the npm registry,
checked against the hashes below, and kept in exports/.vendor/. Without them, the pages are
still written (formulas then show as TeX), the slides are not, and the command says so; live
slides then take reveal.js's style sheets from the web.

Live slides differ from the notebook in three ways, all made on the fly: the markdown
pictures are embedded (Voila only serves files beside the notebook, ours are in ../img), the
picture of an explorer's first state gives its place to the live explorer, and arrow keys
pressed on a slider move the slider, not the slides.
"""
import argparse
import base64
import copy
import hashlib
import html
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
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
    "jquery": ("3.7.1",  # Voila's reveal template scrolls tall slides with jQuery
               "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
               ("LICENSE.txt", "dist/jquery.min.js")),
}

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BADGE_IMAGE = re.compile(r"\[!\[([^\]]*)\]\(https://mybinder\.org/badge_logo\.svg\)\]\(([^)\s]+)\)")
NOTEBOOK_LINK = re.compile(r"\]\((\d\d_[^)\s#]+)\.ipynb(#[^)\s]*)?\)")
FILE_LINK = re.compile(r"(\]\(\s*<?|href=[\"'])([^)\s>\"']+)")  # [text](target), href="target"
MARKDOWN_IMAGE = re.compile(r"(!\[[^\n]*?\]\(\s*<?)([^)\s>]+)")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)


# --- vendored scripts: fetched once from the npm registry ----------------------------------------

def vendor_dir(package, root=None):
    version = VENDOR[package][0]
    return Path(root or EXPORTS / ".vendor") / f"{package}-{version}"


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
    """Binder badges as plain links: the badge picture is on the web, the link works anywhere."""
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
        url = None if re.match(r"[a-zA-Z][\w+.-]*:|#|//", target) else github_url(target, folder)
        return match.group(1) + url if url else match.group(0)
    return FILE_LINK.sub(to_github, source)


def for_sharing(nb, path, suffix):
    """A copy of notebook ``nb`` (read from ``path``) for a static export whose files end in
    ``suffix``: pictures embedded, explorers replaced by a note (their picture is right before
    them), badges as links, links to other notebooks pointed at their exports."""
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
                if WIDGET_VIEW in output.get("data", {}):
                    output = nbformat.v4.new_output("display_data", data={"text/html": note})
                outputs.append(output)
            cell.outputs = outputs
    return nb


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
{%- block html_head_css -%}""" + STYLE + """
<style>
.reveal .slides { text-align: left; }
.reveal .slides > section, .reveal .slides > section > section {
  max-height: {{ reveal_height }}px; overflow-y: auto;  /* tall slides scroll */
}
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt { display: none; }
</style>
{%- endblock html_head_css -%}
{%- block footer_js -%}
<script>{{ resources.offline.reveal_js }}</script>
<script>{{ resources.offline.notes_js }}</script>
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, center: false,
  transition: "{{ reveal_transition }}", slideNumber: "{{ reveal_number }}",
  width: {{ reveal_width }}, height: {{ reveal_height }},
  plugins: [RevealNotes]
});
</script>
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
    """A copy of notebook ``nb`` (in ``folder``) for live slides: pictures embedded, and the
    picture of each explorer's first state left out, since the live explorer comes right after
    it (the explorer takes over its place in the slides)."""
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
    nb = inline_images(nb, folder)
    if nb.cells and nb.cells[0].cell_type == "markdown":  # arrow keys on a slider move the slider
        nb.cells[0].source += "\n\n" + KEEP_KEYS_IN_WIDGETS
    return nb


def explorer_picture(cell):
    """``name`` if ``cell`` is a markdown cell holding only the picture ``img/name.png``."""
    if cell.cell_type != "markdown":
        return None
    match = re.fullmatch(r"\s*!\[[^\n]*?\]\(\s*<?[^)\s>]*?img/(\w+)\.png>?\)\s*",
                         cell.source)
    return match and match.group(1)


# Reveal.js moves to the next slide on the arrow keys, even while a slider has the focus.
KEEP_KEYS_IN_WIDGETS = """<script>
document.addEventListener("DOMContentLoaded", function () {
  document.body.addEventListener("keydown", function (event) {
    if (event.target.closest && event.target.closest(".jupyter-widgets")) event.stopPropagation();
  });
});
</script>"""


def live_app(notebook, vendor_root=None, log=print):
    """``(app class, config)`` that serve ``notebook`` as live reveal.js slides with Voila."""
    from traitlets.config import Config
    from voila.app import Voila

    notebook = Path(notebook).resolve()
    reveal, jquery = (fetch(package, vendor_root or EXPORTS / ".vendor", log)
                      for package in ("reveal.js", "jquery"))
    config = Config()
    config.VoilaConfiguration.template = "reveal"
    config.VoilaConfiguration.strip_sources = False  # show the code, as in class
    config.VoilaConfiguration.prelaunch_hook = \
        lambda handler, notebook, cwd, folder=notebook.parent: for_live(notebook, folder)
    options = {"theme": "white", "transition": "slide", "scroll": True}
    if reveal:  # reveal.js's style sheets from here, not from a CDN
        options["url_prefix"] = f"/voila/static/{reveal.name}"
    else:
        log("reveal.js's style sheets will come from the web (unpkg.com)")
    config.VoilaConfiguration.resources = {"reveal": options}
    if jquery:
        config.HTMLExporter.jquery_url = f"/voila/static/{jquery.name}/dist/jquery.min.js"
    served = {str(folder.parent) for folder in (reveal, jquery) if folder}

    class LiveSlides(Voila):
        def setup_template_dirs(self):
            super().setup_template_dirs()
            self.static_paths.extend(sorted(served))  # our copies, at /voila/static/

    return LiveSlides, config


def present(notebook, argv=(), log=print):
    """Serve ``notebook`` as live slides on this computer only and open them in the browser."""
    app, config = live_app(notebook, log=log)
    app.launch_instance(argv=[str(notebook), "--Voila.ip=127.0.0.1", *argv], config=config)


# --- command line ---------------------------------------------------------------------------------

def find(notebook):
    """A notebook path from a path or a number such as ``01``."""
    if Path(notebook).is_file():
        return Path(notebook)
    matches = [p for p in navigation.series(NOTEBOOKS) if notebook_number(p) == notebook.zfill(2)]
    if not matches:
        raise SystemExit(f"no notebook {notebook!r}: give a path or a number such as 01")
    return matches[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="numbers (01) or paths; default: all")
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
