"""How long is each lesson? Cells, sections, words of markdown and an estimate of the minutes.

Usage (from the repository folder):
    python -m pooling_lib.course.pacing             the notebooks as they are now
    python -m pooling_lib.course.pacing --rev REV   the notebooks of a git revision (e.g. HEAD~5)

The estimate is a rule of thumb, stated here so that it can be argued with: a student reads
markdown at about 120 words a minute (technical text, read with care), spends half a minute
on each code cell (run it, read its output), three minutes on each explorer, five on each
exercise (a cell that calls a check_ function and holds a ... for the student to replace) and
two on the closing self-check (three questions to click). Navigation cells and
the Colab cell (tagged "navigation", "colab") are left out of every count.
"""
import argparse
import re
import subprocess
import sys

import nbformat

from .navigation import COLAB_TAG, TAG, series
from .repo import NOTEBOOKS, ROOT

WORDS_PER_MINUTE = 120
MINUTES = {"code": 0.5, "explorer": 3, "exercise": 5, "self-check": 2}

EXPLORER = re.compile(r"\b\w+_(explorer|stepper)\(")
EXERCISE = re.compile(r"\bcheck_\w+\(")
SELF_CHECK = re.compile(r"\bself_check\(")
BLANK = re.compile(r"(=|^\s*)\s*\.\.\.", re.MULTILINE)  # answer = ... or a body that is ...
HIDDEN = re.compile(r"!\[[^\]]*\]\([^)]*\)|\]\([^)]*\)|<[^>]+>|```.*?```", re.DOTALL)
WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")


def words(markdown):
    """Words a student reads in a markdown cell: no picture addresses, link targets, HTML tags
    or code blocks."""
    return len(WORD.findall(HIDDEN.sub(" ", markdown)))


def kind(cell):
    """"markdown", "explorer", "exercise", "self-check" or "code"."""
    if cell.cell_type != "code":
        return "markdown"
    if SELF_CHECK.search(cell.source):
        return "self-check"
    if EXERCISE.search(cell.source) and BLANK.search(cell.source):  # a checker and a blank to fill
        return "exercise"
    return "explorer" if EXPLORER.search(cell.source) else "code"


def measure(notebook):
    """A dict of counts and the estimated minutes of one notebook (an ``nbformat`` node)."""
    cells = [c for c in notebook.cells if not {TAG, COLAB_TAG} & set(c.metadata.get("tags", []))]
    kinds = [kind(c) for c in cells]
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    count = {k: kinds.count(k) for k in MINUTES}
    m = {"cells": len(cells),
         "sections": sum(line.startswith("## ") for s in markdown for line in s.splitlines()),
         "words": sum(words(s) for s in markdown),
         **count}
    m["minutes"] = round(m["words"] / WORDS_PER_MINUTE + sum(MINUTES[k] * count[k] for k in MINUTES))
    return m


def notebooks(rev=None):
    """``(name, notebook)`` for every notebook of the series, now or at git revision ``rev``."""
    if rev is None:
        return [(p.name, nbformat.read(p, as_version=4)) for p in series(NOTEBOOKS)]
    folder = NOTEBOOKS.relative_to(ROOT).as_posix()
    names = subprocess.run(["git", "ls-tree", "--name-only", rev, folder + "/"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split()
    names = sorted(n.split("/")[-1] for n in names if re.fullmatch(r"\d\d_.+\.ipynb", n.split("/")[-1]))
    return [(n, nbformat.reads(subprocess.run(["git", "show", f"{rev}:{folder}/{n}"], cwd=ROOT,
                                              check=True, capture_output=True, text=True).stdout,
                               as_version=4)) for n in names]


def table(rows):
    """A markdown table of ``(name, measure)`` rows."""
    columns = ["cells", "sections", "words", "code", "explorer", "exercise", "self-check", "minutes"]
    lines = ["| notebook | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(str(m[c]) for c in columns) + " |" for name, m in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="measure the notebooks of this git revision")
    args = parser.parse_args(argv)
    print(table([(name, measure(nb)) for name, nb in notebooks(args.rev)]))


if __name__ == "__main__":
    sys.exit(main())
