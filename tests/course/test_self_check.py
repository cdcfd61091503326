"""The closing self-checks: every question well formed, every answer true of pooling_lib, the
widget's verdicts instant and right, the static page the same questions."""
import html
import re

import nbformat
import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib.course import self_check as sc
from pooling_lib.course.navigation import series
from pooling_lib.course.repo import NOTEBOOKS

LESSONS = sorted(sc.QUESTIONS)


def right_choice(lesson, n):
    q = sc.QUESTIONS[lesson]()[n]
    return q.choices[q.answer]


@pytest.mark.parametrize("lesson", LESSONS)
def test_three_well_formed_questions_per_lesson(lesson):
    questions = sc.QUESTIONS[lesson]()
    assert len(questions) == 3
    for q in questions:
        assert q.text.endswith("?") and len(q.choices) >= 3
        assert len(set(q.choices)) == len(q.choices) == len(q.why)
        assert 0 <= q.answer < len(q.choices)
        assert q.why[q.answer].startswith("Right")
        assert not any(w.startswith("Right") for i, w in enumerate(q.why) if i != q.answer)


def test_every_notebook_has_its_lessons_questions_and_every_lesson_a_notebook():
    assert sorted(p.stem[3:] for p in series(NOTEBOOKS)) == LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_shuffling_keeps_each_choice_with_its_reason(lesson):
    for q in sc.QUESTIONS[lesson]():
        s = sc.shuffled(q)
        assert sorted(zip(s.choices, s.why)) == sorted(zip(q.choices, q.why))
        assert s.choices[s.answer] == q.choices[q.answer]
        assert sc.shuffled(q) == s                        # the same order every time


def test_the_right_choice_is_not_always_in_the_same_place():
    places = [sc.shuffled(q).answer for lesson in LESSONS for q in sc.QUESTIONS[lesson]()]
    assert {places.count(k) for k in range(3)} != {0, len(places)}
    assert all(places.count(k) >= len(places) // 6 for k in range(3))


def shape_text(a):
    return f"{a.shape[-2]} × {a.shape[-1]}"


def test_the_numbers_in_the_answers_are_pooling_libs():
    zeros = np.zeros
    assert right_choice("start_here", 0) == shape_text(pl.max_pool2d(zeros((6, 6)), 2, 2))
    conv = np.lib.stride_tricks.sliding_window_view(zeros((6, 6)), (3, 3))   # every 3×3 position
    assert right_choice("convolution_and_feature_maps", 0) == f"{conv.shape[0]} × {conv.shape[1]}"
    assert right_choice("regions_and_strides", 0) == shape_text(pl.max_pool2d(zeros((7, 7)), 3, 2))
    assert right_choice("regions_and_strides", 1) == str(pl.max_pool2d(zeros((3, 3)), 2, 1).size)
    assert right_choice("max_vs_average", 0) == f"{pl.avg_pool2d(np.array([[1, 9], [2, 0]]), 2).item():g}"
    from pooling_lib import reference
    loop = reference.max_pool2d(zeros((2, 3, 4, 4)), 2, 2)
    assert right_choice("forward_pass", 0) == str(loop.size)
    x = np.array([[1.0, 3.0], [2.0, 0.0]])                       # the maximum at the top right
    assert right_choice("backward_pass", 0) == f"{pl.max_pool2d_backward(np.array([[5.0]]), x, 2)[0, 0]:g}"
    assert right_choice("backward_pass", 1) == f"{pl.avg_pool2d_backward(np.array([[8.0]]), (2, 2), 2)[0, 0]:g}"
    cell = np.zeros((5, 5))
    cell[2, 2] = 1                                               # wins windows (0, 0)... at stride 1
    grad = pl.max_pool2d_backward(np.array([[1.0, 2.0, 0, ], [0, 0, 0], [0, 0, 0]]), cell, 3, 1)
    assert right_choice("backward_pass", 2) == f"{grad[2, 2]:g}"
    assert right_choice("padding_and_output_size", 0) == str(pl.max_pool2d(zeros((6, 6)), 3, 2, 1).shape[1])
    dilated = pl.max_pool2d(zeros((1, 10)), (1, 2), dilation=2, stride=1)
    assert right_choice("padding_and_output_size", 2) == str(10 - dilated.shape[1] + 1)  # cells spanned
    assert right_choice("global_adaptive_and_unpooling", 0) == str(pl.global_avg_pool2d(zeros((64, 7, 7))).shape)
    firsts_lasts = []
    for i in range(3):                      # the cells each output of adaptive pooling reads
        hot = [c for c in range(5) if pl.adaptive_max_pool2d(np.eye(5)[c][None], (1, 3))[0, i] == 1]
        firsts_lasts.append(f"{hot[0]}–{hot[-1]}")
    assert right_choice("global_adaptive_and_unpooling", 1) == ", ".join(firsts_lasts)
    from pooling_lib.im2col import im2col
    copies = (im2col(np.arange(32 * 32.0).reshape(32, 32), 3, stride=1) == 16 * 32 + 16).sum()
    assert right_choice("fast_pooling", 1) == str(copies)
    from pooling_lib.cnn.nn import make_cnn
    shapes = {}
    x = np.zeros((1, 1, 8, 8))
    for layer in make_cnn("max").layers:
        if type(layer).__name__ == "MaxPool":
            shapes["before"] = x.size
        x = layer.forward(x)
        if type(layer).__name__ == "MaxPool":
            shapes["after"] = x.size
    assert right_choice("what_pooling_changes", 0) == f"{shapes['before'] // shapes['after']} times as many"
    from pooling_lib import reference
    tie = np.array([[3.0, 7.0], [7.0, 1.0]])
    split = reference.max_pool2d_backward(np.ones((1, 1)), tie, 2, ties="split")
    assert right_choice("ties_and_gradient_checks", 1) == f"{split[0, 1]:g}" == f"{1 / (tie == 7).sum():g}"
    first = reference.max_pool2d_backward(np.ones((1, 1)), tie, 2, ties="first")
    assert right_choice("ties_and_gradient_checks", 0) == "The top-right 7" and first[0, 1] == 1
    # receptive fields, counted from the gradient: the pixels that reach one output cell
    from pooling_lib.cnn.nn import Conv2D, Sequential, make_cnn

    def field_width(layers, size, cell):
        network = Sequential(layers)
        for layer in layers:
            if isinstance(layer, Conv2D):
                layer.weight[:] = 1
        out = network.forward(np.ones((1, 1, size, size)))
        one_hot = np.zeros(out.shape)
        one_hot[(0, 0, *cell)] = 1
        reached = network.backward(one_hot, 0.0)[0, 0] != 0
        return int(reached.any(axis=0).sum())

    three = field_width([Conv2D(1, 1, 3) for _ in range(3)], 11, (2, 2))
    assert right_choice("receptive_fields", 0) == str(three)
    seen = field_width([Conv2D(1, 1, 3, padding=1), pl.AvgPool(2)], 8, (1, 1))  # every cell counts
    assert right_choice("receptive_fields", 2) == f"{seen} × {seen}"
    from pooling_lib.cnn.nn import count_parameters
    swap = count_parameters(make_cnn("strided")) - count_parameters(make_cnn("max"))
    assert right_choice("what_replaces_pooling", 1) == f"{swap:,}"
    conv = Conv2D(3, 3, 2, stride=2)
    conv.weight[:] = np.eye(3)[:, :, None, None] / 4                 # 1/4 on each map's own channel
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 6))
    assert right_choice("what_replaces_pooling", 0).startswith("Average pooling")
    np.testing.assert_allclose(conv.forward(x), pl.avg_pool2d(x, 2), atol=1e-15)


def click(check, n, choice):
    check.choices[n].value = choice
    return check.verdicts[n].value


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_click_gets_its_verdict_at_once(lesson):
    check = sc.self_check(lesson)
    assert all(v.value == "" for v in check.verdicts) and "Click an answer" in check.score.value
    for n, q in enumerate(check.questions):
        for choice in range(len(q.choices)):
            shown = click(check, n, choice)
            ok = choice == q.answer
            assert ("#1a7f37" if ok else "#cf222e") in shown                  # tick or cross
            assert q.why[choice].replace("`", "") in html.unescape(shown)
        click(check, n, q.answer)
        assert f"{n + 1} of 3 right so far" in check.score.value
    click(check, 0, (check.questions[0].answer + 1) % len(check.questions[0].choices))
    assert "2 of 3 right so far" in check.score.value


def test_grading_follows_the_key_not_the_position():
    """A mutant key (any other index marked right) is caught: the verdicts follow ``answer``."""
    for lesson in LESSONS:
        for q in sc.QUESTIONS[lesson]():
            for wrong in set(range(len(q.choices))) - {q.answer}:
                assert sc.grade(q, q.answer) and not sc.grade(q, wrong)
                mutant = q._replace(answer=wrong)
                assert not sc.grade(mutant, q.answer) and sc.grade(mutant, wrong)


def test_static_page_and_text_show_the_same_questions():
    check = sc.self_check("backward_pass")
    page, text = check.static_html(), check.static_text()
    for n, q in enumerate(check.questions, 1):
        assert f"{n}. {q.text}" in text
        for choice in q.choices:
            assert f"<summary>{choice}</summary>" in page and choice in text
    assert page.count("<details>") == 9
    assert page.count('aria-label="right"') == 3 and page.count('aria-label="not yet"') == 6
    assert "Right" not in text                                  # the text gives nothing away
    bundle = check._repr_mimebundle_()
    assert {"application/vnd.jupyter.widget-view+json", "text/html", "text/plain"} <= set(bundle)


def test_an_unknown_lesson_is_refused_by_name():
    with pytest.raises(ValueError, match="lesson must be one of .*'start_here'.*got 'nope'"):
        sc.self_check("nope")


def test_the_notebooks_call_their_own_lesson():
    for path in series(NOTEBOOKS):
        calls = [c.source for c in nbformat.read(path, as_version=4).cells
                 if c.cell_type == "code" and "self_check(" in c.source]
        assert calls == [f'from pooling_lib.course.self_check import self_check\n'
                         f'self_check("{path.stem[3:]}")'], path.name
