"""The "your turn" checks: right answers pass, typical wrong answers get their specific message."""
import numpy as np
import pytest

from pooling_lib.course import exercises as ex
from pooling_lib import reference


def test_unanswered_gets_a_reminder_not_an_error():
    for verdict in (ex.check_output_size(..., 4, 2), ex.check_pooled(..., np.ones((2, 2)), 2),
                    ex.check_forward(...), ex.check_backward(None), ex.check_pool_count(..., 4, 2),
                    ex.check_gradient_cells(..., np.eye(2), 2, 2, (0, 0))):
        assert not verdict
        assert "Not answered yet" in repr(verdict)


@pytest.mark.parametrize("answer, args, words", [
    (4, (6, 3, 1), ["✅", "floor((6 − 3) / 1) + 1 = 4"]),
    (3, (6, 3, 1), ["❌", "+ 1"]),
    (3, (5, 2, 2, 0, 1, True), ["✅", "ceil"]),
    (2, (5, 2, 2, 0, 1, True), ["❌", "round up"]),
    (3, (6, 3, 2), ["❌", "dropped (floor)"]),
    (2, (4, 3, 1, 1), ["❌", "L + 2P"]),
    (4, (10, 3, 1, 0, 3), ["✅", "floor((10 − (3·(3 − 1) + 1)) / 1) + 1 = 4"]),
    (2, (4, 2, 3, 1, 1, True), ["✅", "ceil((4 + 2·1 − 2) / 3) + 1 = 3, minus the last window"]),
    (3, (4, 2, 3, 1, 1, True), ["❌", "drop the last window"]),
    (2, (5, 3, 2, "same"), ["❌", "ceil(L / S)"]),
    (8, (10, 3, 1, 0, 3), ["❌", "spans d·(F − 1) + 1 = 7 cells"]),
    (3, (5, 3, 2, "same"), ["✅", "ceil(5 / 2)"]),
    (2.0, (4, 2, 2), ["❌", "whole number"]),
    (7, (4, 2, 2), ["❌", "floor((L + 2P"]),
])
def test_check_output_size(answer, args, words):
    verdict = ex.check_output_size(answer, *args)
    assert bool(verdict) == (words[0] == "✅")
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
    assert not ex.check_pool_count(16, 4, 2, 1)


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


def test_check_gradient_cells():
    x = np.array([[1, 8], [3, 4]])
    assert ex.check_gradient_cells([(0, 1)], x, 2, 2, (0, 0))
    assert "one cell only" in repr(ex.check_gradient_cells([(0, 1), (1, 1)], x, 2, 2, (0, 0)))
    assert "not the largest" in repr(ex.check_gradient_cells([(1, 1)], x, 2, 2, (0, 0)))


def test_check_im2col_size():
    shape = (8, 16, 32, 32)                       # 3×3 at stride 1: K = 9, L = 30·30, 128 planes
    assert ex.check_im2col_size(128 * 9 * 900, shape, 3, 1)
    assert "Not answered yet" in repr(ex.check_im2col_size(..., shape, 3, 1))
    for answer, words in [(8 * 16 * 32 * 32, "size of the input"), (128 * 900, "size of the output"),
                          (9 * 900, "one plane"), (128 * 9 * 32 * 32, "Count the windows"),
                          (8 * 9 * 900, "both the batch size N and the channels C"),
                          (2.0, "whole number")]:
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
                          (10_250.0, "whole number")]:
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
