"""Where the course lives: the repository's folders, and the GitHub repository its badges open.

The course tools work on a checkout of the repository (pooling_lib installed from it with
``pip install -e .``, as ``requirements.txt`` does). The GitHub repository is one setting,
``Repository`` under ``[project.urls]`` in ``pyproject.toml``: a fork changes that line and
runs ``python -m pooling_lib.course.navigation`` to point every badge at itself.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
IMG = ROOT / "img"
README = ROOT / "README.md"
EXPORTS = ROOT / "exports"
PYPROJECT = ROOT / "pyproject.toml"
REQUIREMENTS = ROOT / "requirements.txt"

REPOSITORY_LINE = re.compile(r'^Repository\s*=\s*"https://github\.com/([\w.-]+/[\w.-]+?)/?"\s*$',
                             re.MULTILINE)


def repository(pyproject=PYPROJECT):
    """``owner/name`` of the GitHub repository, from ``pyproject.toml``'s ``[project.urls]``."""
    found = REPOSITORY_LINE.search(Path(pyproject).read_text(encoding="utf-8"))
    if not found:
        raise ValueError(f"{Path(pyproject).name} needs a line Repository = "
                         '"https://github.com/OWNER/NAME" under [project.urls]')
    return found.group(1)
