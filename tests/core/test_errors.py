"""Every refusal in docs/semantics.md: a ValueError / TypeError that names the parameter and the value."""
import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib import reference

X = np.arange(16.0).reshape(4, 4)


@pytest.mark.parametrize("lib", [pl, reference], ids=["fast", "reference"])
@pytest.mark.parametrize("kwargs, error, words", [
    (dict(pool_size=0), ValueError, ["pool_size", ">= 1", "0"]),
    (dict(pool_size=(2, -1)), ValueError, ["pool_size", "-1"]),
    (dict(pool_size=2, stride=0), ValueError, ["stride", ">= 1", "0"]),
    (dict(pool_size=2, stride=-2), ValueError, ["stride", "-2"]),
    (dict(pool_size=2, padding=2), ValueError, ["padding", "pool // 2", "padding=2"]),
    (dict(pool_size=3, padding=-1), ValueError, ["padding", ">= 0", "-1"]),
    (dict(pool_size=2, padding="full"), ValueError, ["padding", "'valid'", "'same'", "'full'"]),
    (dict(pool_size=5), ValueError, ["output size", "size 4", "pool_size=5", "gives 0"]),
    (dict(pool_size=2, dilation=0), ValueError, ["dilation", ">= 1", "0"]),
    (dict(pool_size=2.0), TypeError, ["pool_size", "int", "2.0"]),
    (dict(pool_size="2"), TypeError, ["pool_size", "int", "'2'"]),
    (dict(pool_size=True), TypeError, ["pool_size", "True"]),
    (dict(pool_size=(2, 2, 2)), ValueError, ["pool_size", "pair", "(2, 2, 2)"]),
    (dict(pool_size=2, stride=1.5), TypeError, ["stride", "1.5"]),
    (dict(pool_size=2, ceil_mode="yes"), TypeError, ["ceil_mode", "'yes'"]),
    (dict(pool_size=2, padding="same", ceil_mode=True), ValueError, ["ceil_mode", "'same'"]),
])
def test_refused_settings(lib, kwargs, error, words):
    with pytest.raises(error) as raised:
        lib.max_pool2d(X, **kwargs)
    for word in words:
        assert word in str(raised.value)


@pytest.mark.parametrize("lib", [pl, reference], ids=["fast", "reference"])
def test_a_window_with_no_input_cell_is_refused(lib):
    # L = 1, pool 2, dilation 2, padding 1: the only window's cells are -1 and 1, both padding
    with pytest.raises(ValueError, match="holds no input cell"):
        lib.max_pool2d(np.ones((1, 1)), 2, 1, padding=1, dilation=2)


@pytest.mark.parametrize("x, error, words", [
    (np.ones(4), ValueError, ["x", "(H, W), (C, H, W) or (N, C, H, W)", "(4,)"]),
    (np.ones((1, 1, 1, 4, 4)), ValueError, ["x", "5 axes"]),
    (np.ones((2, 0, 4, 4)), ValueError, ["C, H, W >= 1", "(2, 0, 4, 4)"]),
    (np.ones((0, 4)), ValueError, ["(0, 4)"]),
    ([[1, 2], [3]], TypeError, ["x", "numeric"]),
    ([["a", "b"], ["c", "d"]], TypeError, ["x", "dtype"]),
    (np.ones((2, 2), bool), TypeError, ["x", "bool"]),
    (np.ones((2, 2), complex), TypeError, ["x", "complex"]),
])
def test_bad_inputs(x, error, words):
    for call in (lambda: pl.max_pool2d(x, 2), lambda: pl.avg_pool2d(x, 2), lambda: pl.MaxPool(2).forward(x)):
        with pytest.raises(error) as raised:
            call()
        for word in words:
            assert word in str(raised.value)


def test_lists_of_numbers_are_fine():
    assert pl.max_pool2d([[1, 2], [3, 4]], 2).tolist() == [[4]]


@pytest.mark.parametrize("call", [
    lambda g: pl.max_pool2d_backward(g, X, 2),
    lambda g: pl.avg_pool2d_backward(g, X.shape, 2),
    lambda g: reference.max_pool2d_backward(g, X, 2),
    lambda g: pl.adaptive_max_pool2d_backward(g, X, 2),
    lambda g: pl.global_avg_pool2d_backward(g, X.shape),
])
def test_grad_output_must_have_the_output_shape(call):
    with pytest.raises(ValueError, match=r"grad_output must have the forward output's shape .* got \(3, 3\)"):
        call(np.ones((3, 3)))


def test_layers_refuse_backward_before_forward_and_wrong_gradients():
    for layer in (pl.MaxPool(2), pl.AvgPool(2)):
        with pytest.raises(ValueError, match="backward was called before forward"):
            layer.backward(np.ones((2, 2)), 0.1)
        layer.forward(X)
        with pytest.raises(ValueError, match=r"shape \(2, 2\), got \(1, 2\)"):
            layer.backward(np.ones((1, 2)), 0.1)


def test_layer_settings_are_checked():
    with pytest.raises(ValueError, match="ties must be one of 'first', 'last', 'split', 'all', got 'mean'"):
        pl.MaxPool(2, ties="mean")
    with pytest.raises(ValueError, match="stride"):
        pl.MaxPool(2, stride=0).forward(X)


def test_average_specific_refusals():
    with pytest.raises(ValueError, match="divisor_override must not be 0"):
        pl.avg_pool2d(X, 2, divisor_override=0)
    with pytest.raises(TypeError, match="divisor_override must be an int, got 1.5"):
        pl.avg_pool2d(X, 2, divisor_override=1.5)
    with pytest.raises(TypeError, match="count_include_pad must be True or False"):
        pl.avg_pool2d(X, 2, count_include_pad=None)
    with pytest.raises(TypeError, match="input_shape must be a tuple of ints"):
        pl.avg_pool2d_backward(np.ones((2, 2)), 16, 2)
    with pytest.raises(ValueError, match="input_shape must be >= 0"):
        pl.avg_pool2d_backward(np.ones((2, 2)), (4, -4), 2)


def test_adaptive_and_unpool_refusals():
    with pytest.raises(ValueError, match="output_size must be >= 1, got 0"):
        pl.adaptive_max_pool2d(X, (0, 2))
    out, idx = pl.max_pool2d(X, 2, return_indices=True)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\) for output_size=\(2, 2\)"):
        pl.max_unpool2d(out, idx, (2, 2))
    with pytest.raises(ValueError, match="indices must have the shape of values"):
        pl.max_unpool2d(out, idx[:1], (4, 4))
    with pytest.raises(TypeError, match="indices must be integers, got dtype float32"):
        pl.max_unpool2d(out, idx.astype(np.float32), (4, 4))


def test_1d_refusals():
    with pytest.raises(ValueError, match=r"x must have shape \(L,\), \(C, L\) or \(N, C, L\)"):
        pl.max_pool1d(np.ones((1, 1, 1, 4)), 2)
    with pytest.raises(TypeError, match="pool_size must be an int"):
        pl.max_pool1d(np.ones(4), (2, 2))
    with pytest.raises(ValueError, match="output size"):
        pl.avg_pool1d(np.ones(4), 5)


@pytest.mark.parametrize("call, words", [
    (lambda: pl.pool_output_size(0, 2), ["size", ">= 1", "0"]),
    (lambda: pl.pool_output_size(4, 2, 0), ["stride", "0"]),
    (lambda: pl.pool_output_size(4, 5), ["output size", "gives 0"]),
    (lambda: pl.pool_output_size(4, 2, padding=2), ["padding", "pool // 2"]),
])
def test_output_size_refusals(call, words):
    with pytest.raises(ValueError) as raised:
        call()
    for word in words:
        assert word in str(raised.value)


def test_ties_argument_is_checked_by_the_functions():
    with pytest.raises(ValueError, match="ties must be one of"):
        pl.max_pool2d_backward(np.ones((2, 2)), X, 2, ties="random")


def test_checked_settings_are_remembered_by_type_not_just_value():
    pl.max_pool2d(X, 2)  # 2 is now a known, valid pool size ...
    for bad in (2.0, True, (2.0, 2), np.float64(2)):
        with pytest.raises(TypeError, match="pool_size must be an int"):  # ... 2.0 and True are not
            pl.max_pool2d(X, bad)


def test_layers_say_what_they_are():
    assert repr(pl.MaxPool(2)) == "MaxPool(pool_size=2)"
    assert repr(pl.MaxPool(3, 1, ties="split")) == "MaxPool(pool_size=3, stride=1, ties='split')"
    assert repr(pl.AvgPool((2, 3), padding=1)) == "AvgPool(pool_size=(2, 3), padding=1)"
