"""The "your turn" checks: right answers pass, typical wrong answers get their specific message.

tests/course/test_exercise_mutations.py holds the systematic part: every checker against every
form of its right answers, the classic mistakes written as mutants, and junk. Here: the rules
in words, one example each, and the exercises exactly as the notebooks set them."""
import html

import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib.course import exercises as ex
from pooling_lib import reference
from pooling_lib.course.widgets import small_input


def test_unanswered_gets_a_reminder_not_an_error():
    for verdict in (ex.check_output_size(..., 4, 2), ex.check_pooled(..., np.ones((2, 2)), 2),
                    ex.check_forward(...), ex.check_backward(None), ex.check_pool_count(..., 4, 2),
                    ex.check_gradient_cells(..., np.eye(2), 2, 2, (0, 0)),
                    ex.check_input_gradient(..., np.eye(3), np.ones((2, 2)), 2, 1),
                    ex.check_padded_average(..., np.eye(3), 3, 2, 1)):
        assert not verdict
        assert "Not answered yet" in repr(verdict)


@pytest.mark.parametrize("answer, args, words", [
    (4, (6, 3, 1), ["✓", "floor((6 − 3) / 1) + 1 = 4"]),
    (3, (6, 3, 1), ["✗", "+ 1"]),
    (3, (5, 2, 2, 0, 1, True), ["✓", "ceil"]),
    (2, (5, 2, 2, 0, 1, True), ["✗", "round up"]),
    (3, (6, 3, 2), ["✗", "Round down (floor)", "not the whole length"]),   # two slips give 3
    (2, (4, 3, 1, 1), ["✗", "L + 2P"]),
    (4, (10, 3, 1, 0, 3), ["✓", "floor((10 − (3·(3 − 1) + 1)) / 1) + 1 = 4"]),
    (2, (4, 2, 3, 1, 1, True), ["✓", "ceil((4 + 2·1 − 2) / 3) + 1 = 3, minus the last window"]),
    (3, (4, 2, 3, 1, 1, True), ["✗", "start at cell 5, past the input and the left padding"]),
    (2, (5, 3, 2, "same"), ["✗", "ceil(L / S)"]),
    (8, (10, 3, 1, 0, 3), ["✗", "spans d·(F − 1) + 1 = 7 cells"]),
    (3, (5, 3, 2, "same"), ["✓", "ceil(5 / 2)"]),
    (2.0, (4, 2, 2), ["✓", "2 windows"]),
    (2.5, (4, 2, 2), ["✗", "not a whole number", "rounds down (floor)"]),
    (True, (4, 2, 2), ["✗", "truth value"]),
    (-2, (4, 2, 2), ["✗", "negative"]),
    (7, (4, 2, 2), ["✗", "floor((L + 2P"]),
])
def test_check_output_size(answer, args, words):
    verdict = ex.check_output_size(answer, *args)
    assert bool(verdict) == (words[0] == "✓")
    for word in words:
        assert word in repr(verdict)


def test_a_stub_that_still_returns_nothing_gets_the_reminder():
    def stub(*args):
        ...
    for verdict in (ex.check_forward(stub), ex.check_backward(stub), ex.check_backward(stub, "avg")):
        assert "Not answered yet" in repr(verdict)


def test_check_pool_count():
    assert ex.check_pool_count(9, 4, 2, 1)
    assert "rows × columns" in repr(ex.check_pool_count(3, 4, 2, 1))
    verdict = ex.check_pool_count(16, 4, 2, 1)   # the input's 16 cells, and (L / S)² = 16 too
    assert not verdict and "input cells" in repr(verdict) and "not L / S" in repr(verdict)


PEAK_AT_0_4 = np.eye(5)[::-1] * 9        # one 5×5 window; its first 9 in reading order: (0, 4)


def test_one_whole_number_rule_for_every_count():
    """4.0 is 4 wherever a count or a size is asked; True, 4.5, NaN, text and lists are not."""
    from pooling_lib.cnn.nn import make_cnn
    network = make_cnn("max")
    network.forward(np.zeros((1, 1, 8, 8)))
    counts = [(lambda a: ex.check_output_size(a, 6, 3, 1), 4),
              (lambda a: ex.check_pool_count(a, 6, 3, 1), 16),
              (lambda a: ex.check_im2col_size(a, (1, 1, 6, 6), 3, 1), 9 * 16),
              (lambda a: ex.check_dense_parameters(a, make_cnn(None)), 10_250),
              (lambda a: ex.check_layer_shape((2, 16, a, 4), network, "MaxPool", 2), 4),
              (lambda a: ex.check_gradient_cells([(0, a)], PEAK_AT_0_4, 5, 5, (0, 0)), 4)]
    for check, n in counts:
        for form in (n, np.int64(n), np.array(n), float(n), np.float32(n), np.array(float(n))):
            assert check(form), (n, form)
        for form in (True, n + 0.5, float("nan"), str(n), [n]):
            verdict = check(form)
            assert not verdict and "Not answered yet" not in repr(verdict), (n, form)


X = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [3, 1, 4, 6]])


def test_check_pooled():
    assert ex.check_pooled([[6, 5], [7, 9]], X, 2, 2)
    assert ex.check_pooled([[3.5, 2], [3.25, 6.75]], X, 2, 2, mode="avg")
    assert "averages" in repr(ex.check_pooled([[3.5, 2], [3.25, 6.75]], X, 2, 2))
    assert "maxima" in repr(ex.check_pooled([[6, 5], [7, 9]], X, 2, 2, mode="avg"))
    verdict = ex.check_pooled([[6, 5], [7, 8]], X, 2, 2)
    assert not verdict and "cell (1, 1) should be 9, you have 8" in repr(verdict)
    assert "shape (3, 3)" in repr(ex.check_pooled(np.zeros((2, 2)), X, 2, 1))
    assert "list of rows" in repr(ex.check_pooled("six", X, 2, 2))
    assert ex.check_pooled(np.array([[6, 5], [7, 9]], np.int8), X, 2, 2)
    assert "Rows and columns are swapped" in repr(ex.check_pooled([[6, 7], [5, 9]], X, 2, 2))
    assert "window sums" in repr(ex.check_pooled([[14, 8], [13, 27]], X, 2, 2, mode="avg"))


def test_hand_written_averages_may_be_rounded_correctly():
    y = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    for form in ([[1 / 9]], [[0.11]], [[0.111]], [[np.float32(1 / 9)]]):
        assert ex.check_pooled(form, y, 3, 1, mode="avg"), form
    for form in ([[0.1]], [[0.12]], [[0.112]]):   # rounded to one decimal, or wrongly
        assert not ex.check_pooled(form, y, 3, 1, mode="avg"), form
    assert ex.check_padded_average(5.56, small_input(5), 4, 2, 1, count_include_pad=False)
    assert ex.check_padded_average(50 / 9, small_input(5), 4, 2, 1, count_include_pad=False)
    assert not ex.check_padded_average(5.55, small_input(5), 4, 2, 1, count_include_pad=False)


class LoopMaxPool:
    """A correct student layer, written with loops (pooling_lib.reference does the work)."""

    def __init__(self, pool_size, stride):
        self.pool_size, self.stride = pool_size, stride

    def forward(self, input):
        self.input = input
        return reference.max_pool2d(input, self.pool_size, self.stride)

    def backward(self, output_gradient, learning_rate):
        return reference.max_pool2d_backward(output_gradient, self.input, self.pool_size, self.stride)


def test_check_forward_accepts_layers_and_functions():
    assert ex.check_forward(LoopMaxPool)
    assert ex.check_forward(lambda x, pool, stride: reference.avg_pool2d(x, pool, stride), mode="avg")


def test_check_forward_names_the_first_wrong_cell_or_shape():
    verdict = ex.check_forward(lambda x, pool, stride: reference.avg_pool2d(x, pool, stride))
    assert not verdict and "output[0, 0] is" in repr(verdict)
    no_plus_one = lambda x, pool, stride: reference.max_pool2d(x, pool, stride)[..., :-1, :-1]
    assert "has shape (1, 1), expected (2, 2)" in repr(ex.check_forward(no_plus_one))
    assert "raised ZeroDivisionError" in repr(ex.check_forward(lambda x, pool, stride: 1 / 0))


def test_check_backward_spots_the_overwrite_bug():
    assert ex.check_backward(LoopMaxPool)
    verdict = ex.check_backward(ex.assigned_max_backward)
    assert not verdict and "use +=" in repr(verdict)
    spread = lambda g, x, pool, stride: reference.avg_pool2d_backward(g, x.shape, pool, stride)
    assert ex.check_backward(spread, mode="avg")
    verdict = ex.check_backward(spread)
    assert not verdict and "grad_input[" in repr(verdict) and "use +=" not in repr(verdict)
    assert "gradient of average pooling" in repr(verdict)


def max_pool_backward_assign(grad_output, x, pool, stride):
    """Notebook 05's tutorial version: one (H, W) plane, and = where it must be +=."""
    grad_input = np.zeros(x.shape)
    oh, ow = grad_output.shape
    for i in range(oh):
        for j in range(ow):
            window = x[i*stride : i*stride + pool, j*stride : j*stride + pool]
            a, b = np.unravel_index(np.argmax(window), window.shape)
            grad_input[i*stride + a, j*stride + b] = grad_output[i, j]
    return grad_input


def test_check_backward_names_the_bug_of_notebook_04_although_it_stops_at_channels():
    verdict = ex.check_backward(max_pool_backward_assign)
    assert not verdict and "use +=" in repr(verdict) and "raised" not in repr(verdict)


def test_check_backward_catches_what_an_all_ones_gradient_hid():
    """The old check fed grad_output = ones and no ties: these three passed it."""
    ones = lambda g, x, p, s: pl.max_pool2d_backward(np.ones_like(g), x, p, s)
    swapped = lambda g, x, p, s: pl.max_pool2d_backward(g.swapaxes(-1, -2), x, p, s) \
        if g.shape[-1] == g.shape[-2] else pl.max_pool2d_backward(g, x, p, s)
    last = lambda g, x, p, s: pl.max_pool2d_backward(g, x, p, s, ties="last")
    for student, words in [(ones, "not 1"), (swapped, "grad_output[j, i]"), (last, "last tied cell")]:
        verdict = ex.check_backward(student)
        assert not verdict and words in repr(verdict), repr(verdict)


def test_code_that_returns_nothing_or_junk_gets_a_sentence():
    def forgot_return(grad_output, x, pool, stride):
        grad_input = pl.max_pool2d_backward(grad_output, x, pool, stride)  # noqa: F841

    assert "does it end with a return" in repr(ex.check_backward(forgot_return))
    assert "Not answered yet" in repr(ex.check_backward(lambda *args: None))   # cannot tell
    assert "its name, without brackets" in repr(ex.check_backward("my_max_backward"))
    assert "text" in repr(ex.check_forward(lambda x, pool, stride: "six"))
    spoiler = lambda x, pool, stride: (pl.max_pool2d(x, pool, stride), x.fill(0))[0]
    assert ex.check_forward(spoiler)        # the check hands out copies


def test_check_gradient_cells():
    x = np.array([[1, 8], [3, 4]])
    assert ex.check_gradient_cells([(0, 1)], x, 2, 2, (0, 0))
    assert "one cell only" in repr(ex.check_gradient_cells([(0, 1), (1, 1)], x, 2, 2, (0, 0)))
    assert "not the largest" in repr(ex.check_gradient_cells([(1, 1)], x, 2, 2, (0, 0)))
    for form in ({(0, 1)}, ((0, 1),), (0, 1), [0, 1], np.array([[0, 1]]), [(0.0, np.int64(1))]):
        assert ex.check_gradient_cells(form, x, 2, 2, (0, 0)), form
    verdict = ex.check_gradient_cells([], x, 2, 2, (0, 0))     # used to raise KeyError
    assert not verdict and "empty list" in repr(verdict)


def test_check_gradient_cells_names_both_slips_when_they_coincide():
    tie = np.array([[1, 7], [7, 2]])                             # the last tie is the swapped winner
    verdict = ex.check_gradient_cells([(1, 0)], tie, 2, 2, (0, 0))
    assert not verdict and "swapped" in repr(verdict) and "first tied cell" in repr(verdict)


ACC_X = np.array([[1, 4, 2, 0],
                  [3, 5, 8, 1],
                  [2, 6, 0, 3],
                  [9, 1, 7, 2]])


def test_check_input_gradient_as_set_in_notebook_04():
    grad = np.array([[1, 2], [3, 4]])
    right = [[0, 0, 0, 0], [0, 0, 7, 0], [0, 0, 0, 0], [3, 0, 0, 0]]
    assert np.array_equal(pl.max_pool2d_backward(grad, ACC_X, 3, 1), right)
    verdict = ex.check_input_gradient(right, ACC_X, grad, pool_size=3, stride=1)
    assert verdict and "1 + 2 + 4 = 7" in repr(verdict)
    for answer, words in [
            ([[0, 0, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0], [3, 0, 0, 0]], "You kept only one"),
            ([[0, 0, 0, 0], [0, 0, 3, 0], [0, 0, 0, 0], [1, 0, 0, 0]], "not 1"),
            ([[0, 0, 0, 0], [0, 0, 8, 0], [0, 0, 0, 0], [2, 0, 0, 0]], "grad_output[j, i]"),
            ([[0, 0, 0, 0], [0, 7, 0, 0], [0, 0, 0, 0], [3, 0, 0, 0]], "wrong cell"),
            ([[1, 2], [3, 4]], "shape of grad_output")]:
        verdict = ex.check_input_gradient(answer, ACC_X, grad, 3, 1)
        assert not verdict and words in repr(verdict), repr(verdict)


def test_check_input_gradient_of_average_pooling_as_set_in_notebook_04():
    grad = np.array([[4, 8], [12, 16]])
    right = [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    assert np.array_equal(pl.avg_pool2d_backward(grad, (3, 3), 2, 1), right)
    assert ex.check_input_gradient(right, (3, 3), grad, pool_size=2, stride=1, mode="avg")
    for answer, words in [([[4, 12, 8], [16, 40, 24], [12, 28, 16]], "Divide by the window size"),
                          ([[1, 2, 2], [3, 4, 4], [3, 4, 4]], "add up"),
                          ([[1, 3, 2], [4, 9, 6], [3, 7, 4]], "(4 + 8 + 12 + 16) / 4 = 10")]:
        verdict = ex.check_input_gradient(answer, (3, 3), grad, 2, 1, mode="avg")
        assert not verdict and words in repr(verdict), repr(verdict)


def test_check_padded_average_as_set_in_notebook_05():
    x = small_input(5)
    assert ex.check_padded_average(3.125, x, pool_size=4, stride=2, padding=1, count_include_pad=True)
    assert ex.check_padded_average(50 / 9, x, 4, 2, 1, count_include_pad=False)
    verdict = ex.check_padded_average(50 / 9, x, 4, 2, 1, count_include_pad=True)
    assert not verdict and "count_include_pad=False" in repr(verdict)
    verdict = ex.check_padded_average(x[:4, :4].mean(), x, 4, 2, 1, count_include_pad=True)
    assert not verdict and "as if there were no padding" in repr(verdict)


def test_check_im2col_size():
    shape = (8, 16, 32, 32)                       # 3×3 at stride 1: K = 9, L = 30·30, 128 planes
    assert ex.check_im2col_size(128 * 9 * 900, shape, 3, 1)
    assert "Not answered yet" in repr(ex.check_im2col_size(..., shape, 3, 1))
    for answer, words in [(8 * 16 * 32 * 32, "size of the input"), (128 * 900, "size of the output"),
                          (9 * 900, "one plane"), (128 * 9 * 32 * 32, "Count the windows"),
                          (8 * 9 * 900, "both the batch size N and the channels C"),
                          (2.5, "whole number")]:
        verdict = ex.check_im2col_size(answer, shape, 3, 1)
        assert not verdict and words in repr(verdict), answer
    assert "floor((L − F) / S) + 1" in repr(ex.check_im2col_size(128 * 9 * 16 * 16, shape, 3, 2))


def _tiles(x, k, split=None):
    N, C, H, W = x.shape
    return x.reshape(split or (N, C, H // k, k, W // k, k))


def test_check_reshape_pool_right_and_typical_mistakes():
    assert ex.check_reshape_pool(lambda x, k: _tiles(x, k).max(axis=(3, 5)))
    assert ex.check_reshape_pool(lambda x, k: _tiles(x, k).mean(axis=(3, 5)), mode="avg")
    assert "Not answered yet" in repr(ex.check_reshape_pool(...))
    mistakes = [
        (lambda x, k: _tiles(x, k).max(axis=(2, 4)), "reduced axes 2 and 4"),
        (lambda x, k: _tiles(x, k, x.shape[:2] + (k, x.shape[2] // k, k, x.shape[3] // k))
         .max(axis=(2, 4)), "spread out"),
        (lambda x, k: _tiles(x, k, x.shape[:2] + (x.shape[2] // k, x.shape[3] // k, k, k))
         .max(axis=(4, 5)), "mixes rows"),
        (lambda x, k: _tiles(x, k).mean(axis=(3, 5)), "computed the averages"),
        (lambda x, k: _tiles(x, k).max(axis=3), "reduce both k-sized axes"),
        (lambda x, k: x.reshape(1, 1, 2, 2, 2, 2).max(axis=(3, 5)), "raised ValueError"),
        (lambda x, k: _tiles(x, k).max(axis=(3, 5)) + 1, "output[0, 0, 0, 0] is"),
    ]
    for student, words in mistakes:
        verdict = ex.check_reshape_pool(student)
        assert not verdict and words in repr(verdict), (words, repr(verdict))


def test_check_dense_parameters_counts_weights_and_biases():
    from pooling_lib.cnn.nn import make_cnn
    no_pool, pooled = make_cnn(None), make_cnn("max")
    assert ex.check_dense_parameters(16 * 8 * 8 * 10 + 10, no_pool)
    assert ex.check_dense_parameters(16 * 4 * 4 * 10 + 10, pooled)
    assert "Not answered yet" in repr(ex.check_dense_parameters(..., no_pool))
    for answer, words in [(10_240, "but not the biases"), (2_570, "with 2×2 pooling"),
                          (2_560, "And add the 10 biases"), (10_410, "the whole network"),
                          (11_264, "not one per input"), (1_034, "multiply"),
                          (170, "not one per channel"), (7, "C × H × W"),
                          (10_250.5, "whole number")]:
        verdict = ex.check_dense_parameters(answer, no_pool)
        assert not verdict and words in repr(verdict), (answer, repr(verdict))
    assert "without pooling" in repr(ex.check_dense_parameters(10_250, pooled))


def test_check_layer_shape_of_the_pooling_layer():
    from pooling_lib.cnn.nn import make_cnn
    network = make_cnn("max")
    network.forward(np.zeros((3, 1, 8, 8)))
    assert ex.check_layer_shape((32, 16, 4, 4), network, "MaxPool", batch=32)
    assert ex.check_layer_shape([32, 16, 4, 4], network, 2, batch=32)
    assert ex.check_layer_shape((5, 10), network, -1, batch=5)
    assert network.layers[2].output.shape == (3, 16, 4, 4)  # checked on a copy
    assert "Not answered yet" in repr(ex.check_layer_shape(..., network, "MaxPool", 32))
    for answer, words in [((16, 4, 4), "Keep the batch axis"),
                          ((32, 16, 8, 8), "floor((8 − 2) / 2) + 1 = 4"),
                          ((32, 4, 4, 16), "channels before the height"),
                          ((32, 8, 4, 4), "the 16 channels stay 16"),
                          ((32, 1, 4, 4), "1 channel into 16 feature maps"),
                          ((32, 256), "comes out of Flatten"),
                          ((1, 16, 4, 4), "images in the batch: 32"),
                          (32 * 16 * 4 * 4, "how many numbers come out"),
                          ("32x16x4x4", "tuple of sizes"),
                          ((32, 16, 2, 2), "what does it do to each axis")]:
        verdict = ex.check_layer_shape(answer, network, "MaxPool", batch=32)
        assert not verdict and words in repr(verdict), (answer, repr(verdict))
    with pytest.raises(ValueError, match="MaxPool"):
        ex.check_layer_shape((1,), network, "Pool", batch=1)


def test_the_size_exercises_of_notebook_05_have_different_answers():
    """Each answer differs from the others, and a student who ignores one setting (the padding,
    the stride, ceil_mode or 'same') gets a number that is not the answer."""
    import ast
    from pathlib import Path

    import nbformat
    path = Path(__file__).resolve().parents[2] / "notebooks" / "07_padding_and_output_size.ipynb"
    settings = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and "check_output_size(" in cell.source:
            call = next(node for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Call)
                        and getattr(node.func, "id", "") == "check_output_size")
            settings.append({k.arg: ast.literal_eval(k.value) for k in call.keywords})
    assert len(settings) == 3
    answers = [pl.pool_output_size(**s) for s in settings]
    assert len(set(answers)) == 3, answers
    for s, answer in zip(settings, answers):
        ignored = [dict(s, stride=1)]
        if s.get("padding", 0) not in (0, "valid"):
            ignored.append(dict(s, padding=0, ceil_mode=False) if s["padding"] == "same"
                           else dict(s, padding=0))
        if s.get("ceil_mode"):
            ignored.append(dict(s, ceil_mode=False))
        for other in ignored:
            assert pl.pool_output_size(**other) != answer, (s, other)
            assert not ex.check_output_size(pl.pool_output_size(**other), **s)


@pytest.mark.parametrize("answer, ok", [(9, True), (8, False)])
def test_the_verdict_needs_no_emoji_font(answer, ok):
    """The mark is drawn (SVG) in a notebook and a plain symbol in text: nothing an emoji font
    must supply. The sentence is escaped, and keeps the theme's text colour."""
    verdict = ex.check_pool_count(answer, 4, 2, 1)
    page = verdict._repr_html_()
    assert repr(verdict).startswith("✓ " if ok else "✗ ")
    assert "<svg" in page and ("#1a7f37" if ok else "#cf222e") in page
    assert html.escape(verdict.text) in page and "color:" not in page
    assert all(ord(ch) < 0x2600 or ch in "✓✗" for ch in repr(verdict) + page)
    assert "<b>" not in ex.Feedback(False, "<b>")._repr_html_()


def test_check_receptive_field_size_as_set_in_notebook_14():
    """The stack of notebook 14's exercise gives every classic slip its own wrong answer, so each
    message names exactly one mistake."""
    from pathlib import Path

    import nbformat
    from pooling_lib.receptive_field import conv, field_sizes, pool
    path = Path(__file__).resolve().parents[2] / "notebooks" / "14_receptive_fields.ipynb"
    calls = [c.source for c in nbformat.read(path, as_version=4).cells
             if c.cell_type == "code" and "check_receptive_field_size(answer" in c.source]
    assert len(calls) == 1
    steps = eval(calls[0].split("check_receptive_field_size(answer, ")[1].rsplit(")", 1)[0],
                 {"conv": conv, "pool": pool})
    assert steps == [conv(3), pool(2), conv(5), conv(3)]
    right = field_sizes(steps)[-1].size
    assert right == 1 + 2 * 1 + 1 * 1 + 4 * 2 + 2 * 2 == 16
    verdict = ex.check_receptive_field_size(right, steps)
    assert verdict and "1 + 2·1 + 1·1 + 4·2 + 2·2 = 16" in repr(verdict)
    slips = [value for value, _ in ex._field_mistakes(steps)]
    assert right not in slips and len(set(slips)) == len(slips), slips
    for value in slips:
        verdict = ex.check_receptive_field_size(value, steps)
        assert not verdict and "slips give this same answer" not in repr(verdict)
