"""The notebooks as files: navigation, links, slides, widgets, exercises and saved outputs.

These tests read the saved .ipynb files; no kernel runs (nbval, in pyproject's addopts, runs
the notebooks themselves). Each check is a function returning a list of problems, so a
failure says what is wrong and where; the last tests feed the checks broken notebooks to
show that each of them can fail.
"""
import html.parser
import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
from nbconvert import SlidesExporter

from pooling_lib.course import navigation, widgets
from pooling_lib.course.repo import repository

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
EXPLORERS = tuple(make.__name__ for make in widgets.EXPLORERS)
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"   # [text](target "title")
                  r"|^\s*\[[^\]]+\]:\s*(\S+)"                       # [label]: target
                  r"|(?:src|href)=[\"']([^\"']+)[\"']", re.MULTILINE)  # <img src=...>, <a href=...>
IMAGE = re.compile(r"!\[[^\n]*?\]\(\s*<?([^)\s>]+)|<img[^>]*\bsrc=[\"']([^\"']+)")  # alt may hold [ ]
EXTERNAL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:|#")  # http:, https:, mailto:, attachment:, #anchor
BADGES = {"Binder": re.compile(r"https://mybinder\.org/v2/gh/([^/\s)]+/[^/\s)]+)/HEAD\?urlpath=lab/tree/"
                               r"([^)\s]+)"),
          "Colab": re.compile(r"https://colab\.research\.google\.com/github/([^/\s)]+/[^/\s)]+)/blob/"
                              rf"{navigation.BRANCH}/([^)\s]+)")}
BADGE_PICTURES = ("https://mybinder.org/badge_logo.svg",
                  "https://colab.research.google.com/assets/colab-badge.svg")
CHECK_CALL = re.compile(r"^[^#\n]*\bcheck_\w+\(", re.MULTILINE)


def explorer_call(name):
    """A call of explorer ``name`` outside a comment, e.g. ``padding_explorer()``."""
    return re.compile(rf"^[^#\n]*\b{name}\s*\(", re.MULTILINE)


def slide_type(cell):
    return cell.metadata.get("slideshow", {}).get("slide_type")


def markdown_cells(nb):
    return [(k, c) for k, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def code_cells(nb):
    return [(k, c) for k, c in enumerate(nb.cells) if c.cell_type == "code"]


def read(path):
    return nbformat.read(path, as_version=4)


# --- the checks: each returns a list of problems ---------------------------------------------

def link_problems(nb, folder):
    """Relative links and images in markdown cells that point at no existing file."""
    problems = []
    for k, cell in markdown_cells(nb):
        for groups in LINK.findall(cell.source):
            target = next(g for g in groups if g)
            if EXTERNAL.match(target):
                continue
            file = unquote(target.split("#")[0].split("?")[0])
            if not (Path(folder) / file).is_file():
                problems.append(f"cell {k}: link to {target}, which does not exist")
    return problems


def image_problems(nb):
    """Markdown images that are not pictures pooling_lib.course.figures makes (img/NAME.png)."""
    from pooling_lib.course.figures import PICTURES
    problems = []
    for k, cell in markdown_cells(nb):
        for groups in IMAGE.findall(cell.source):
            target = next(g for g in groups if g)
            if target in BADGE_PICTURES:
                continue
            name = target.rsplit("/", 1)[-1]
            if not (target == f"../img/{name}" and name in PICTURES):
                problems.append(f"cell {k}: image {target} is not ../img/<a picture of "
                                "pooling_lib.course.figures>")
    return problems


def badge_problems(nb, name):
    """The Binder and Colab badges must open this very notebook, on the repository of
    pyproject.toml; the Colab cell must install from that repository."""
    problems = []
    for kind, pattern in BADGES.items():
        badges = [(k, m) for k, cell in markdown_cells(nb) for m in pattern.finditer(cell.source)]
        if not badges:
            problems.append(f"no {kind} badge")
        for k, match in badges:
            repo, urlpath = match.groups()
            if urlpath != f"notebooks/{name}":
                problems.append(f"cell {k}: the {kind} badge opens {urlpath}, not notebooks/{name}")
            if repo != repository():
                problems.append(f"cell {k}: the {kind} badge opens {repo}, not {repository()}")
    installs = re.findall(r"git\+https://github\.com/([^\s\"]+)\"",
                          "".join(c.source for _, c in code_cells(nb)))
    if installs != [repository()]:
        problems.append(f"the Colab cell installs from {installs}, not [{repository()!r}]")
    return problems


def slide_problems(nb):
    """Every cell has a slide type; the first code cell (setup and imports) is skipped."""
    problems = [f"cell {k}: slide_type {slide_type(c)!r}, expected one of {sorted(SLIDE_TYPES)}"
                for k, c in enumerate(nb.cells) if slide_type(c) not in SLIDE_TYPES]
    code = code_cells(nb)
    if code and slide_type(code[0][1]) != "skip":
        problems.append(f"cell {code[0][0]}: the first code cell (the setup) should be 'skip', "
                        f"not {slide_type(code[0][1])!r}")
    return problems


def explorer_problems(nb):
    """Cells that show an explorer: tagged nbval-ignore-output, with the explorer's picture
    (img/<explorer>.png) in a markdown cell at most two cells before."""
    problems = []
    for k, cell in code_cells(nb):
        for name in EXPLORERS:
            if not explorer_call(name).search(cell.source):
                continue
            if "nbval-ignore-output" not in cell.metadata.get("tags", []):
                problems.append(f"cell {k}: {name} is not tagged nbval-ignore-output")
            before = nb.cells[max(k - 2, 0):k]
            if not any(c.cell_type == "markdown" and re.search(
                    rf"(!\[[^\n]*?\]\(\s*<?|<img[^>]*src=[\"'])[^)\s\"']*img/{name}\.png", c.source)
                    for c in before):
                problems.append(f"cell {k}: {name} has no picture img/{name}.png in the two "
                                "cells before it")
    return problems


def content_problems(nb, name="00_x.ipynb"):
    """A "What you learned" cell, at least one check_ call (an exercise) unless the notebook is
    an appendix, and at the very end (before the navigation) the lesson's self-check: a "Check
    yourself" heading, then ``self_check("<name without its number>")`` with its output ignored."""
    problems = []
    if not any(re.search(r"^#+\s*What you learned", c.source, re.MULTILINE | re.IGNORECASE)
               for _, c in markdown_cells(nb)):
        problems.append("no markdown cell with a 'What you learned' heading")
    appendix = bool(nb.cells) and "Appendix" in nb.cells[0].source.split("\n")[0]
    if not appendix and not any(CHECK_CALL.search(c.source) for _, c in code_cells(nb)):
        problems.append("no code cell calls a check_ function")
    cells = [c for c in nb.cells if navigation.TAG not in c.metadata.get("tags", [])]
    lesson = Path(name).stem[3:]
    if len(cells) < 2 or not re.fullmatch(
            rf'from pooling_lib\.course\.self_check import self_check\nself_check\("{lesson}"\)',
            cells[-1].source.strip()):
        problems.append(f'the last cell is not the self-check, self_check("{lesson}")')
    elif "nbval-ignore-output" not in cells[-1].metadata.get("tags", []):
        problems.append("the self-check's output is not ignored by nbval (a widget)")
    elif not (cells[-2].cell_type == "markdown" and cells[-2].source.startswith("### Check yourself")):
        problems.append("no '### Check yourself' heading right before the self-check")
    return problems


def output_problems(nb):
    """No stored errors; saved from a fresh kernel run top to bottom (counts 1, 2, 3, ...)."""
    problems = [f"cell {k}: stored {o.get('ename', 'error')} output"
                for k, c in code_cells(nb) for o in c.outputs if o.output_type == "error"]
    counts = [c.execution_count for _, c in code_cells(nb)]
    if counts != list(range(1, len(counts) + 1)):
        problems.append(f"execution counts are {counts}, expected 1 to {len(counts)} in order "
                        "(save the notebook after Restart & Run All)")
    return problems


class Sections(html.parser.HTMLParser):
    """Counts <section> elements by depth: reveal slides (depth 0) and subslides (depth 1)."""

    def __init__(self):
        super().__init__()
        self.depth, self.count = 0, [0, 0]

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            if self.depth < 2:
                self.count[self.depth] += 1
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1


def expected_sections(nb):
    """(slides, subslides) reveal makes: the first visible cell always starts a slide."""
    types = [slide_type(c) or "-" for c in nb.cells]
    first = next(k for k, t in enumerate(types) if t not in ("skip", "notes"))
    rest = types[first + 1:]
    return 1 + rest.count("slide"), 1 + rest.count("slide") + rest.count("subslide")


def slides_problems(nb):
    """The reveal.js export has one top-level <section> per slide, one inner per subslide."""
    body, _ = SlidesExporter().from_notebook_node(nb)
    parser = Sections()
    parser.feed(body)
    found, expected = tuple(parser.count), expected_sections(nb)
    problems = []
    if parser.depth != 0:
        problems.append(f"the slides' <section>s do not close ({parser.depth} left open)")
    if found != expected:
        problems.append(f"(slides, subslides) = {found} in the export, expected {expected}")
    return problems


# --- every notebook ---------------------------------------------------------------------------

@cache
def expected_navigation():
    return navigation.expected_notebooks(ROOT / "notebooks")


notebooks = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


@notebooks
def test_navigation_is_up_to_date(path):
    text, wanted = expected_navigation()[path]
    assert text == wanted, (f"{navigation.difference(text, wanted)}; "
                            "run python -m pooling_lib.course.navigation")


@notebooks
def test_relative_links_resolve(path):
    assert link_problems(read(path), path.parent) == []


@notebooks
def test_images_come_from_img(path):
    assert image_problems(read(path)) == []


@notebooks
def test_binder_badge_opens_this_notebook(path):
    assert badge_problems(read(path), path.name) == []


@notebooks
def test_slide_metadata(path):
    assert slide_problems(read(path)) == []


@notebooks
def test_explorers_have_a_picture_and_ignore_output(path):
    assert explorer_problems(read(path)) == []


@notebooks
def test_what_you_learned_an_exercise_and_a_closing_self_check(path):
    assert content_problems(read(path), path.name) == []


def contents_rows(text):
    """``[(number, title, link), ...]``: the rows of the first contents table in ``text``."""
    return re.findall(r"^\| (\d\d) \| \[([^\]]+)\]\(([^)]+)\) \|", text, re.MULTILINE)


@pytest.mark.parametrize("where", ["README.md", "notebooks/00_start_here.ipynb"])
def test_contents_tables_follow_the_series(where):
    """The README's table and notebook 00's list every notebook of the series, in order, with its
    number, the start of its title and a link that opens it."""
    path = ROOT / where
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for _, c in markdown_cells(read(path)))
    rows = contents_rows(text)
    series = navigation.series(ROOT / "notebooks")
    assert [number for number, _, _ in rows] == [p.name[:2] for p in series]
    for (number, title, link), notebook in zip(rows, series):
        assert (path.parent / link).resolve() == notebook.resolve(), (number, link)
        assert navigation.title(notebook).startswith(f"{number} · {title}"), (number, title)


@notebooks
def test_saved_outputs_from_a_clean_run(path):
    assert output_problems(read(path)) == []


@notebooks
def test_slides_export(path):
    assert slides_problems(read(path)) == []


def test_readme_badge_is_up_to_date():
    texts = navigation.expected_readme()
    if texts is None:
        pytest.skip("README.md has no <!-- binder badge --> marker")
    assert texts[0] == texts[1], "run python -m pooling_lib.course.navigation"


# --- the checks can fail ----------------------------------------------------------------------

def md(source, slide="slide", **metadata):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata = {"slideshow": {"slide_type": slide}, **metadata}
    return cell


def code(source, slide="-", count=None, outputs=(), tags=None):
    cell = nbformat.v4.new_code_cell(source, execution_count=count, outputs=list(outputs))
    cell.metadata = {"slideshow": {"slide_type": slide}}
    if tags:
        cell.metadata["tags"] = tags
    return cell


def colab_cell(**fields):
    cell = navigation.colab_cell(nbformat.v4.new_notebook())
    cell.update(fields)
    return cell


def good_notebook():
    return nbformat.v4.new_notebook(cells=[
        md("# 99 · Example\n\n**Goal: nothing.**"),
        md(navigation.badge("notebooks/99_example.ipynb"), "-"),
        code("import pooling_lib", "skip", 1),
        md("![The padding explorer](../img/padding_explorer.png)"),
        code("padding_explorer()", "subslide", 2, tags=["nbval-ignore-output"]),
        md("Notes", "notes"),
        code("answer = ...\ncheck_output_size(answer, 5, 2)", "fragment", 3),
        colab_cell(execution_count=4),            # navigation puts it right after the title
        md("## What you learned\n\n- [the contents](07_padding_and_output_size.ipynb)"),
        md("### Check yourself\n\nThree questions.", "subslide"),
        code('from pooling_lib.course.self_check import self_check\nself_check("example")', "-", 5,
             tags=["nbval-ignore-output"]),
    ])


def test_good_notebook_passes_every_check():
    nb, folder = good_notebook(), ROOT / "notebooks"
    assert link_problems(nb, folder) == image_problems(nb) == badge_problems(nb, "99_example.ipynb") \
        == slide_problems(nb) == explorer_problems(nb) == content_problems(nb, "99_example.ipynb") \
        == output_problems(nb) == slides_problems(nb) == []


def test_checks_find_broken_notebooks():
    folder = ROOT / "notebooks"

    def broken(change):
        nb = good_notebook()
        change(nb)
        return nb

    nb = broken(lambda nb: nb.cells.append(md("[gone](07_missing.ipynb) ![x](../img/nope.png)")))
    assert len(link_problems(nb, folder)) == 2
    assert image_problems(broken(lambda nb: nb.cells.append(md("![x](pictures/y.png)"))))
    assert badge_problems(good_notebook(), "05_other.ipynb")
    assert badge_problems(broken(lambda nb: nb.cells.pop(1)), "99_example.ipynb") == \
        ["no Binder badge", "no Colab badge"]
    assert badge_problems(broken(lambda nb: nb.cells.pop(7)), "99_example.ipynb") == \
        [f"the Colab cell installs from [], not [{repository()!r}]"]
    other = navigation.badge("notebooks/99_example.ipynb", "someone/else")
    assert len(badge_problems(broken(lambda nb: nb.cells[1].update(source=other)),
                              "99_example.ipynb")) == 2              # both badges name the fork
    assert slide_problems(broken(lambda nb: nb.cells[3].metadata.clear()))
    assert slide_problems(broken(lambda nb: nb.cells[2].metadata.update(
        slideshow={"slide_type": "slide"})))
    assert explorer_problems(broken(lambda nb: nb.cells[4].metadata.pop("tags")))
    def push_picture_away(nb):
        nb.cells[4:4] = [md("text", "-"), md("more", "-")]
    far = broken(push_picture_away)
    assert explorer_problems(far) == ["cell 6: padding_explorer has no picture "
                                      "img/padding_explorer.png in the two cells before it"]
    name = "99_example.ipynb"
    assert content_problems(broken(lambda nb: nb.cells.pop(8)), name) == \
        ["no markdown cell with a 'What you learned' heading"]
    assert content_problems(broken(lambda nb: nb.cells.pop(6)), name) == \
        ["no code cell calls a check_ function"]
    appendix = broken(lambda nb: nb.cells.pop(6))
    appendix.cells[0].source = "# 99 · Appendix: example"
    assert content_problems(appendix, name) == []            # an appendix needs no exercise
    assert content_problems(broken(lambda nb: nb.cells.pop()), name) == \
        ['the last cell is not the self-check, self_check("example")']
    assert content_problems(good_notebook(), "99_other.ipynb") == \
        ['the last cell is not the self-check, self_check("other")']
    assert content_problems(broken(lambda nb: nb.cells[-1].metadata.pop("tags")), name) == \
        ["the self-check's output is not ignored by nbval (a widget)"]
    assert content_problems(broken(lambda nb: nb.cells.pop(-2)), name) == \
        ["no '### Check yourself' heading right before the self-check"]
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
    assert output_problems(broken(lambda nb: nb.cells[6].outputs.append(error)))
    assert output_problems(broken(lambda nb: setattr(nb.cells[6], "execution_count", 7)))
    assert output_problems(broken(lambda nb: setattr(nb.cells[2], "execution_count", None)))


def test_slide_count_follows_the_metadata():
    nb = good_notebook()
    assert expected_sections(nb) == (3, 5)  # cells 0, 3, 8 start slides; cells 4, 9 subslides
    assert slides_problems(nb) == []
    nb.cells[3].metadata["slideshow"]["slide_type"] = "-"
    assert expected_sections(nb) == (2, 4)
    assert slides_problems(nb) == []


def test_navigation_check_finds_stale_and_missing_cells(tmp_path):
    for name, heading in [("00_start_here", "00 · Start here"), ("01_first", "01 · First"),
                          ("03_third", "03 · Third")]:
        nb = nbformat.v4.new_notebook(cells=[md(f"# {heading}"), code("1 + 1", "skip")])
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    readme = tmp_path / "README.md"
    assert len(navigation.check(tmp_path, readme)) == 3       # no navigation anywhere yet
    navigation.update(tmp_path, readme)
    assert navigation.check(tmp_path, readme) == []
    first = read(tmp_path / "01_first.ipynb")
    top, bottom = first.cells[1].source, first.cells[-1].source
    assert "urlpath=lab/tree/notebooks/01_first.ipynb" in top
    assert bottom == "[← 00 · Start here](00_start_here.ipynb) · [03 · Third →](03_third.ipynb)"
    third = read(tmp_path / "03_third.ipynb").cells[-1].source
    assert third == "[← 01 · First](01_first.ipynb) · [Contents](00_start_here.ipynb)"
    before = (tmp_path / "01_first.ipynb").read_bytes()
    navigation.update(tmp_path, readme)                       # a rerun changes nothing
    assert (tmp_path / "01_first.ipynb").read_bytes() == before
    assert sum("navigation" in c.metadata.get("tags", []) for c in first.cells) == 2
    first.cells[-1].source = "[old link](02_gone.ipynb)"
    nbformat.write(first, tmp_path / "01_first.ipynb")
    assert [p.split(":")[0] for p in navigation.check(tmp_path, readme)] == ["01_first.ipynb"]
    readme.write_text("# x\n<!-- binder badge -->\nold\n<!-- /binder badge -->\n")
    assert navigation.check(tmp_path, readme)[-1].startswith("README.md")


def readme_block(marker):
    """The code block right after ``<!-- marker -->`` in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\s*```\w*\n(.+?)\n```", readme, re.S)
    assert found, f"the README has no {marker}"
    return found.group(1).strip()


def test_the_instructor_commands_of_notebook_00_are_the_readmes():
    text = "\n".join(c.source for c in read(ROOT / "notebooks" / "00_start_here.ipynb").cells
                     if c.cell_type == "markdown")
    shown = re.findall(r"```bash\n\s*(.+?)\n\s*```", text)
    assert readme_block("slides command") in shown
    assert readme_block("export command") in shown
    assert not [c for c in shown if "nbconvert" in c], "use the README's export command"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_kernel_is_the_installed_one(path):
    # JupyterLab rewrites a kernelspec that differs from the kernel it starts, and autosaves the
    # notebook: merely opening it would leave the repository changed
    from jupyter_client.kernelspec import KernelSpecManager
    stored = read(path).metadata.kernelspec
    installed = KernelSpecManager().get_kernel_spec(stored.name)
    assert (stored.name, stored.display_name, stored.language) == \
        ("python3", installed.display_name, installed.language)


@pytest.mark.parametrize("in_colab", [True, False])
def test_the_colab_cell_sets_up_colab_and_only_colab(in_colab, monkeypatch):
    """The cell as IPython runs it, with Colab's module stubbed: in Colab it installs pooling_lib
    from the repository with the students' ipywidgets pin and turns on the widget manager;
    anywhere else it does nothing."""
    import sys
    import types
    from IPython.core.inputtransformer2 import TransformerManager

    done = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: done.append("widgets"))
    colab = types.ModuleType("google.colab")
    colab.output = output
    if in_colab:
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
        monkeypatch.setitem(sys.modules, "google.colab", colab)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    shell = types.SimpleNamespace(run_line_magic=lambda magic, line: done.append((magic, line)))
    code = TransformerManager().transform_cell(colab_cell().source)
    exec(code, {"get_ipython": lambda: shell})
    if in_colab:
        pin = navigation.ipywidgets_pin()
        assert done == [("pip", f'install -q "pooling_lib[notebooks] @ git+https://github.com/'
                                f'{repository()}" {pin}'), "widgets"]
        assert pin.startswith("ipywidgets==8")
    else:
        assert done == []
