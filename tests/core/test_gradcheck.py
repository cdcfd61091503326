"""Numerical gradient checks (docs/semantics.md: centred differences, h = 1e-5, relative error < 1e-7)."""
import numpy as np
import pytest

import pooling_lib as pl


def distinct(shape, seed=0):
    """Well-separated values: a shuffled arange scaled by 0.1, so no two cells are within h."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1


SETTINGS = [dict(pool_size=2), dict(pool_size=3, stride=1), dict(pool_size=(3, 2), stride=(2, 1), padding=1),
            dict(pool_size=2, stride=2, ceil_mode=True), dict(pool_size=3, stride=2, padding="same")]


@pytest.mark.parametrize("s", SETTINGS)
@pytest.mark.parametrize("ties", ["first", "last", "split", "all"])
def test_max_pool_gradient(s, ties):
    x = distinct((2, 5, 5))
    grad = np.random.default_rng(1).standard_normal(pl.max_pool2d(x, **s).shape)
    numeric = pl.numerical_gradient(lambda v: pl.max_pool2d(v, **s), x, grad)
    assert pl.relative_error(pl.max_pool2d_backward(grad, x, **s, ties=ties), numeric) < 1e-7


@pytest.mark.parametrize("s", SETTINGS + [dict(pool_size=3, stride=1, padding=1, count_include_pad=False),
                                          dict(pool_size=2, stride=1, divisor_override=3)])
def test_avg_pool_gradient(s):
    x = distinct((2, 5, 5))
    grad = np.random.default_rng(1).standard_normal(pl.avg_pool2d(x, **s).shape)
    numeric = pl.numerical_gradient(lambda v: pl.avg_pool2d(v, **s), x, grad)
    assert pl.relative_error(pl.avg_pool2d_backward(grad, x.shape, **s), numeric) < 1e-7


@pytest.mark.parametrize("forward, backward, by_shape", [
    (lambda v: pl.adaptive_max_pool2d(v, (2, 3)), lambda g, v: pl.adaptive_max_pool2d_backward(g, v, (2, 3)), False),
    (lambda v: pl.adaptive_avg_pool2d(v, (2, 3)), lambda g, v: pl.adaptive_avg_pool2d_backward(g, v.shape, (2, 3)), True),
    (pl.global_max_pool2d, pl.global_max_pool2d_backward, False),
    (pl.global_avg_pool2d, lambda g, v: pl.global_avg_pool2d_backward(g, v.shape), True),
])
def test_adaptive_and_global_gradients(forward, backward, by_shape):
    x = distinct((3, 5, 7))
    grad = np.random.default_rng(2).standard_normal(forward(x).shape)
    numeric = pl.numerical_gradient(forward, x, grad)
    assert pl.relative_error(backward(grad, x), numeric) < 1e-7


def test_layers_pass_the_gradient_check():
    x = distinct((2, 2, 6, 6))
    for layer, forward in ((pl.MaxPool(3, 1), lambda v: pl.max_pool2d(v, 3, 1)),
                           (pl.AvgPool(2, 1, padding=1), lambda v: pl.avg_pool2d(v, 2, 1, padding=1))):
        grad = np.random.default_rng(3).standard_normal(layer.forward(x).shape)
        numeric = pl.numerical_gradient(forward, x, grad)
        assert pl.relative_error(layer.backward(grad, 0.01), numeric) < 1e-7


def test_the_numerical_gradient_of_max_at_a_tie_is_half_and_no_policy_matches_it():
    # The lesson of docs/semantics.md: at a tie, nudging either cell up makes it the max, nudging it down
    # leaves the other one: the centred difference sees half a slope on each tied cell.
    x = np.array([[1.0, 1.0], [0.0, 0.0]])
    numeric = pl.numerical_gradient(lambda v: pl.max_pool2d(v, 2), x, [[1.0]])
    np.testing.assert_allclose(numeric, [[0.5, 0.5], [0, 0]], atol=1e-9)
    for ties in ("first", "last", "all"):
        assert pl.relative_error(pl.max_pool2d_backward([[1.0]], x, 2, ties=ties), numeric) > 0.3
    # "split" agrees here only because it gives 1/k to each of the k tied cells
    assert pl.relative_error(pl.max_pool2d_backward([[1.0]], x, 2, ties="split"), numeric) < 1e-7


def test_relative_error_and_numerical_gradient_basics():
    assert pl.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert pl.relative_error([1.0], [3.0]) == pytest.approx(0.5)
    assert pl.relative_error([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        pl.relative_error([1.0], [1.0, 2.0])
    numeric = pl.numerical_gradient(lambda v: v ** 2, np.array([1.0, -2.0]), np.ones(2))
    np.testing.assert_allclose(numeric, [2.0, -4.0], rtol=1e-8)


@pytest.mark.parametrize("grad, h, error, message", [
    (np.ones((1, 2)), 1e-5, ValueError, r"grad_output must have the shape of f\(x\), \(1, 1\), got \(1, 2\)"),
    (np.ones(1), 1e-5, ValueError, r"shape of f\(x\), \(1, 1\), got \(1,\)"),  # would broadcast
    (np.ones((1, 1)), 0, ValueError, "h must be a finite step > 0, got 0"),
    (np.ones((1, 1)), -1e-5, ValueError, "h must be a finite step > 0, got -1e-05"),
    (np.ones((1, 1)), float("nan"), ValueError, "h must be a finite step > 0, got nan"),
    (np.ones((1, 1)), float("inf"), ValueError, "got inf"),
    (np.ones((1, 1)), True, TypeError, "h must be a number, got True"),
    (np.ones((1, 1)), "1e-5", TypeError, "h must be a number, got '1e-5'"),
])
def test_numerical_gradient_refuses_what_it_cannot_estimate(grad, h, error, message):
    with pytest.raises(error, match=message):
        pl.numerical_gradient(lambda v: pl.max_pool2d(v, 2), np.arange(4.0).reshape(2, 2), grad, h=h)


def test_numerical_gradient_leaves_x_alone_and_takes_numpy_steps():
    x = distinct((3, 3))
    before = x.copy()
    grad = pl.numerical_gradient(lambda v: pl.avg_pool2d(v, 3), x, [[2.0]], h=np.float32(1e-3))
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad, np.full((3, 3), 2 / 9), rtol=1e-6)
