"""Write the navigation cells of the notebook series.

Every ``notebooks/NN_*.ipynb`` gets two markdown cells tagged "navigation": one right after
the title cell, holding the "Launch on Binder" and "Open in Colab" badges of that notebook and
the links "← previous · contents · next →", and one at the very end with the same links.
After the first comes a code cell tagged "colab" that, in Google Colab only, installs
pooling_lib from the repository and turns on Colab's manager for ipywidgets 8.
The series is the existing notebooks in file-name order, so every link points at a file
that exists; previous and next are named by the title (cell 0's heading) of the notebook
they open. Other cells and all outputs are left as they are.

Usage (from the repository folder):
    python -m pooling_lib.course.navigation          write or refresh the navigation cells and
                                                     every badge, the README's included
    python -m pooling_lib.course.navigation --check  list stale navigation, exit 1 if any
                                                     (writes nothing)

The badges open the GitHub repository named once, in ``pyproject.toml`` (see
:mod:`pooling_lib.course.repo`).

The README's badge, if it has one, sits between the lines ``<!-- binder badge -->`` and
``<!-- /binder badge -->`` and opens the contents notebook.
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

from .repo import NOTEBOOKS, README, REQUIREMENTS, ROOT, repository

CONTENTS = "00_start_here.ipynb"
TAG = "navigation"
COLAB_TAG = "colab"
BRANCH = "main"  # the branch Colab opens (Binder opens the default branch, HEAD)
COLAB_SETUP = """\
# In Google Colab only: install the course's library and turn on interactive widgets.
import sys
if "google.colab" in sys.modules:
    %pip install -q "pooling_lib[notebooks] @ git+{url}" {widgets}
    from google.colab import output
    output.enable_custom_widget_manager()"""
SERIES = re.compile(r"\d\d_.+\.ipynb")
README_BADGE = re.compile(r"(<!-- binder badge -->\n).*?(<!-- /binder badge -->)", re.DOTALL)


def series(folder=NOTEBOOKS):
    """The notebooks of the series, in order: ``NN_name.ipynb`` files sorted by name."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if SERIES.fullmatch(p.name))


def title(path):
    """The first heading of a notebook's cell 0, without its ``#`` (else the file's stem)."""
    cells = nbformat.read(path, as_version=4).cells
    for line in (cells[0].source.splitlines() if cells else []):
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return path.stem


def badge(urlpath, repo=None):
    """Markdown of the two launch badges for file ``urlpath``: Binder (in JupyterLab) and Colab."""
    repo = repo or repository()
    return ("[![Launch on Binder](https://mybinder.org/badge_logo.svg)]"
            f"(https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/{urlpath}) "
            "[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{repo}/blob/{BRANCH}/{urlpath})")


def colab_cell(nb, repo=None):
    """The code cell that sets a notebook up in Google Colab (and does nothing elsewhere)."""
    source = COLAB_SETUP.format(url=f"https://github.com/{repo or repository()}",
                                widgets=ipywidgets_pin())
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = {"slideshow": {"slide_type": "skip"}, "tags": [COLAB_TAG]}
    if "id" in cell and (nb.nbformat, nb.nbformat_minor) >= (4, 5):
        cell.id = "colab-setup"
    else:
        cell.pop("id", None)
    return cell


def ipywidgets_pin(requirements=REQUIREMENTS):
    """The ``ipywidgets==…`` line of the students' requirements."""
    for line in Path(requirements).read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("ipywidgets=="):
            return line.split("#")[0].strip()
    raise ValueError(f"{Path(requirements).name} pins no ipywidgets version")


def links(paths, titles, i):
    """``← previous · contents · next →`` for notebook ``paths[i]``, to existing files only."""
    parts = []
    if i > 0:
        parts.append(f"[← {titles[i - 1]}]({paths[i - 1].name})")
    if CONTENTS not in (paths[i].name, paths[i - 1].name if i > 0 else None) and \
            any(p.name == CONTENTS for p in paths):  # no second link to the same contents
        parts.append(f"[Contents]({CONTENTS})")
    if i + 1 < len(paths):
        parts.append(f"[{titles[i + 1]} →]({paths[i + 1].name})")
    return " · ".join(parts)


def nav_cell(nb, source, where):
    """A markdown cell tagged "navigation"; it continues the slide it sits on."""
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata = {"slideshow": {"slide_type": "-"}, "tags": [TAG]}
    if "id" in cell and (nb.nbformat, nb.nbformat_minor) >= (4, 5):
        cell.id = f"navigation-{where}"  # fixed ids keep the file unchanged on a rerun
    else:
        cell.pop("id", None)
    return cell


def with_navigation(nb, top, bottom, repo=None):
    """``nb`` with its old navigation and Colab cells removed and new ones put in place: the
    ``top`` links after the title, then the Colab cell, and the ``bottom`` links at the end."""
    colab = colab_cell(nb, repo)
    for old in (c for c in nb.cells if COLAB_TAG in c.metadata.get("tags", [])):
        if old.source == colab.source:  # keep it as run (its count and timings), like any cell
            old.metadata.update(colab.metadata)
            colab = old
    cells = [c for c in nb.cells if not {TAG, COLAB_TAG} & set(c.metadata.get("tags", []))]
    nb.cells = (cells[:1] + [nav_cell(nb, top, "top"), colab] + cells[1:]
                + [nav_cell(nb, bottom, "bottom")])
    return nb


def expected_notebooks(folder=NOTEBOOKS, repo=None):
    """``{path: (current text, text with up-to-date navigation)}`` for every notebook."""
    paths = series(folder)
    titles = [title(path) for path in paths]
    result = {}
    for i, path in enumerate(paths):
        text = path.read_text(encoding="utf-8")
        nav = links(paths, titles, i)
        top = badge(f"notebooks/{path.name}", repo) + ("\n\n" + nav if nav else "")
        nb = with_navigation(nbformat.reads(text, as_version=4), top, nav, repo)
        result[path] = (text, nbformat.writes(nb) + "\n")  # as Jupyter saves: indent 1, final newline
    return result


def expected_readme(readme=README, folder=NOTEBOOKS, repo=None):
    """``(current text, text with an up-to-date badge)`` of the README, or None without a marker."""
    if not Path(readme).exists():
        return None
    text = Path(readme).read_text(encoding="utf-8")
    if not README_BADGE.search(text):
        return None
    target = "notebooks/" + (CONTENTS if (Path(folder) / CONTENTS).exists() else "")
    line = badge(target.rstrip("/"), repo)
    return text, README_BADGE.sub(lambda m: m.group(1) + line + "\n" + m.group(2), text)


def check(folder=NOTEBOOKS, readme=README, repo=None):
    """Problems found, one line per file whose navigation is not what :func:`update` writes."""
    problems = []
    for path, (text, wanted) in expected_notebooks(folder, repo).items():
        if text != wanted:
            problems.append(f"{path.name}: {difference(text, wanted)}")
    readme_texts = expected_readme(readme, folder, repo)
    if readme_texts and readme_texts[0] != readme_texts[1]:
        problems.append(f"{Path(readme).name}: the launch badges are out of date")
    return problems


def difference(text, wanted):
    """A short description of how a notebook's navigation differs from the wanted one."""
    def nav_sources(source_text):
        nb = nbformat.reads(source_text, as_version=4)
        return [(k, c.source) for k, c in enumerate(nb.cells) if TAG in c.metadata.get("tags", [])]
    have, want = nav_sources(text), nav_sources(wanted)
    if not have:
        return "no navigation cells"
    if [k for k, _ in have] != [k for k, _ in want]:
        return (f"navigation cells at positions {[k for k, _ in have]}, "
                f"expected {[k for k, _ in want]}")
    for (_, got), (_, expected) in zip(have, want):
        if got != expected:
            return f"navigation reads {got!r}, expected {expected!r}"
    return "navigation cell metadata or file formatting differs"


def update(folder=NOTEBOOKS, readme=README, repo=None):
    """Write the navigation of every notebook (and the README badge); returns the files changed."""
    changed = []
    for path, (text, wanted) in expected_notebooks(folder, repo).items():
        if text != wanted:
            path.write_text(wanted, encoding="utf-8")
            changed.append(path)
    readme_texts = expected_readme(readme, folder, repo)
    if readme_texts and readme_texts[0] != readme_texts[1]:
        Path(readme).write_text(readme_texts[1], encoding="utf-8")
        changed.append(Path(readme))
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="only report stale navigation; exit 1 if there is any")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem)
        if problems:
            print("Run python -m pooling_lib.course.navigation to update them.")
        return 1 if problems else 0
    for path in update():
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
