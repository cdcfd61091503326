"""The lesson-length table counts what a student meets, by the rule its docstring states."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from pooling_lib.course import pacing


def test_words_skip_addresses_tags_and_code_blocks():
    text = ("Pooling keeps the max ![a grid of cells](../img/x.png) see [notebook 01](01_a.ipynb)\n"
            "<details><summary>Hint</summary>\n```python\nx = 1 + 2\n```\n</details>")
    # the picture (alt text and address), the link target, the tags and the code block are dropped
    assert pacing.words(text) == len("Pooling keeps the max see notebook 01 Hint".split())


def test_measure_counts_each_kind_and_applies_the_stated_rule():
    nb = new_notebook(cells=[
        new_markdown_cell("# 09 · Title\n\n" + "word " * 240),
        new_markdown_cell("[← back](08_x.ipynb)", metadata={"tags": ["navigation"]}),
        new_code_cell("import numpy as np\nfrom pooling_lib.course.exercises import check_pooled"),
        new_markdown_cell("## One\n\ntext\n\n## Two"),
        new_code_cell("widgets.pool_explorer()"),
        new_code_cell("answer = ...\ncheck_pooled(answer, x, 2)"),
    ])
    m = pacing.measure(nb)
    assert (m["cells"], m["sections"], m["code"], m["explorer"], m["exercise"]) == (5, 2, 1, 1, 1)
    assert m["words"] == 2 + 240 + 3          # "09 Title", 240 words, "One text Two"
    expected = m["words"] / pacing.WORDS_PER_MINUTE + 0.5 + 3 + 5
    assert m["minutes"] == round(expected)


def test_every_notebook_of_the_series_is_measured():
    rows = pacing.notebooks()
    assert [name for name, _ in rows] == [p.name for p in pacing.series(pacing.NOTEBOOKS)]
    table = pacing.table([(name, pacing.measure(nb)) for name, nb in rows])
    assert table.count("\n") == len(rows) + 1 and all(name in table for name, _ in rows)


def test_a_checker_run_on_a_given_function_is_code_and_the_self_check_is_its_own_kind():
    nb = new_notebook(cells=[
        new_code_cell("check_backward(max_pool_backward_assign)"),       # a demonstration
        new_code_cell("def mine(x):\n    ...   # your code here\n\ncheck_backward(mine)"),
        new_code_cell('from pooling_lib.course.self_check import self_check\nself_check("x")'),
    ])
    assert [pacing.kind(c) for c in nb.cells] == ["code", "exercise", "self-check"]
    m = pacing.measure(nb)
    assert m["minutes"] == round(0.5 + 5 + 2)
