"""docs/semantics.md is the reference for what pooling_lib computes: its examples must run.

Every ``>>>`` example of the document is executed with ``doctest``; the document must name every
public function, and must stand on its own (no paths outside the repository).
"""
import doctest
import re
from pathlib import Path

import pooling_lib as pl

DOC = Path(__file__).resolve().parents[2] / "docs" / "semantics.md"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
MIN_EXAMPLES = 100  # the document has well over this many; a doc that lost its examples fails


def text():
    return DOC.read_text(encoding="utf-8")


def run_examples(path):
    """Run the examples of the Markdown file at ``path``: a ``doctest.TestResults``."""
    return doctest.testfile(str(path), module_relative=False, encoding="utf-8", optionflags=FLAGS,
                            verbose=False, report=True, name=path.name)


def test_every_example_of_the_document_runs():
    result = run_examples(DOC)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {DOC.name} failed"
    assert result.attempted >= MIN_EXAMPLES


def test_a_wrong_example_fails(tmp_path):
    # guard against a harness that runs nothing: one changed expected value must be caught
    wrong = tmp_path / "semantics.md"
    original = text()
    example = ">>> pl.pool_output_size(4, pool_size=2, stride=3, padding=1, ceil_mode=True)\n2\n"
    assert example in original
    wrong.write_text(original.replace(example, example[:-2] + "3\n"), encoding="utf-8")
    result = run_examples(wrong)
    assert result.failed == 1


def test_examples_live_in_python_code_blocks():
    fence = None  # the language of the code block we are in, None outside blocks
    for number, line in enumerate(text().splitlines(), 1):
        if line.startswith("```"):
            fence = (line[3:].strip() or "plain") if fence is None else None
        elif line.lstrip().startswith(">>>"):
            assert fence == "python", f"line {number}: an example outside a ```python block"
    assert fence is None, "a code block is not closed"


def test_the_document_covers_every_public_name():
    doc = text()
    missing = [name for name in pl.__all__ if not re.search(rf"`{re.escape(name)}\b", doc)]
    assert not missing, f"not described in {DOC.name}: {missing}"


def test_the_document_stands_on_its_own():
    doc = text()
    for word in ("SPEC", "../", "..\\", "/work/", "shared/", "file://", "~/"):
        assert word not in doc, f"{DOC.name} mentions {word!r}"
    assert not re.search(r"(?<![\w.])/(?:home|tmp|usr|mnt|Users)/", doc)
