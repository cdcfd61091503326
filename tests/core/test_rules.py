"""The examples and rules of docs/semantics.md, one by one."""
import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib import reference

FUNCTIONS = [pytest.param(pl, id="fast"), pytest.param(reference, id="reference")]


@pytest.mark.parametrize("size, pool, stride, padding, ceil_mode, expected", [
    (4, 2, 1, 0, False, 3),      # 4x4 input, 2x2 region, stride 1: 3 x 3 = 9 pools
    (4, 2, 2, 0, False, 2),      # stride 2: 2 x 2 = 4 pools
    (4, 2, 3, 1, True, 2),       # the ceil_mode example of docs/semantics.md: 2, not 3
    (5, 2, 2, 0, False, 2),      # uneven sizes are floored ...
    (5, 2, 2, 0, True, 3),       # ... or ceiled
    (7, 3, 2, 1, False, 4),
    (32, 3, 2, 0, False, 15),
    (5, 3, 1, 0, False, 3),
])
def test_output_size_formula(size, pool, stride, padding, ceil_mode, expected):
    assert pl.pool_output_size(size, pool, stride, padding, ceil_mode=ceil_mode) == expected


def test_output_size_with_dilation_and_default_stride():
    assert pl.pool_output_size(10, 3, dilation=2) == 2  # eff 5, stride 3: floor(5 / 3) + 1
    assert pl.pool_output_size(10, 3, 1, dilation=2) == 6


@pytest.mark.parametrize("size, stride, expected", [(5, 2, 3), (6, 2, 3), (7, 3, 3), (1, 4, 1)])
def test_same_padding_gives_ceil_of_size_over_stride(size, stride, expected):
    assert pl.pool_output_size(size, 3, stride, "same") == expected
    assert pl.pool_output_size(size, 1, stride, "valid") == -(-size // stride)


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_classic_4x4_example(lib):
    x = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [3, 1, 4, 6]])
    np.testing.assert_array_equal(lib.max_pool2d(x, 2, 2), [[6, 5], [7, 9]])
    np.testing.assert_array_equal(lib.max_pool2d(x, 2, 1), [[6, 6, 5], [7, 9, 9], [7, 9, 9]])
    np.testing.assert_allclose(lib.avg_pool2d(x, 2, 2), [[3.5, 2.0], [3.25, 6.75]])


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_overlapping_windows_add_up_at_a_single_peak(lib):
    x = np.zeros((5, 5))
    x[2, 2] = 1.0
    grad = lib.max_pool2d_backward(np.ones((3, 3)), x, 3, 1)
    assert grad[2, 2] == 9.0  # every one of the 9 windows routes its gradient to the peak
    assert grad.sum() == 9.0


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_first_maximum_wins_ties(lib):
    x = np.array([[5, 1], [5, 5]], dtype=float)
    out, idx = lib.max_pool2d(x, 2, return_indices=True)
    assert idx[0, 0] == 0
    np.testing.assert_array_equal(lib.max_pool2d_backward([[1.0]], x, 2), [[1, 0], [0, 0]])


@pytest.mark.parametrize("lib", FUNCTIONS)
@pytest.mark.parametrize("ties, expected", [
    ("first", [[1, 0], [0, 0]]),
    ("last", [[0, 0], [0, 1]]),
    ("split", [[1 / 3, 0], [1 / 3, 1 / 3]]),
    ("all", [[1, 0], [1, 1]]),
])
def test_tie_policies(lib, ties, expected):
    x = np.array([[5, 1], [5, 5]], dtype=float)
    np.testing.assert_allclose(lib.max_pool2d_backward([[1.0]], x, 2, ties=ties), expected)


@pytest.mark.parametrize("lib", FUNCTIONS)
@pytest.mark.parametrize("ties", ["first", "last", "split", "all"])
@pytest.mark.parametrize("grad_dtype, expected", [(np.float16, np.float16), (np.float32, np.float32),
                                                  (np.float64, np.float64), (np.int32, np.float64)])
def test_every_tie_policy_gives_the_gradient_the_dtype_of_grad_output(lib, ties, grad_dtype,
                                                                      expected):
    x = np.array([[5, 1, 5], [5, 5, 0], [2, 5, 5]], np.float32)      # ties in every window
    grad = np.array([[3, 1], [2, 6]], grad_dtype)
    result = lib.max_pool2d_backward(grad, x, 2, stride=1, ties=ties)
    assert result.dtype == expected
    exact = reference.max_pool2d_backward(grad.astype(np.float64), x, 2, stride=1, ties=ties)
    np.testing.assert_allclose(result, exact, rtol=1e-3 if grad_dtype == np.float16 else 1e-6)


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_nan_propagates_and_the_last_nan_is_the_index(lib):
    x = np.array([[np.nan, 9.0], [np.nan, 1.0]])
    out, idx = lib.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(out[0, 0])
    assert idx[0, 0] == 2  # row-major scan: the NaN at (1, 0) comes last
    np.testing.assert_array_equal(lib.max_pool2d_backward([[1.0]], x, 2), [[0, 0], [1, 0]])


@pytest.mark.parametrize("lib", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint8, np.int64, np.float32, np.float64])
def test_dtypes(lib, dtype):
    x = (np.arange(16) % 7).reshape(4, 4).astype(dtype)
    out, idx = lib.max_pool2d(x, 2, return_indices=True)
    assert out.dtype == dtype
    assert idx.dtype == np.int64
    expected_avg = np.float32 if dtype == np.float32 else np.float64
    assert lib.avg_pool2d(x, 2).dtype == expected_avg


def test_indices_stay_exact_above_float32_precision():
    x = np.zeros((4100, 4100), np.float32)
    x[4099, 4099] = 1.0
    _, idx = pl.max_pool2d(x, 2, return_indices=True)
    assert idx[-1, -1] == 4099 * 4100 + 4099 == 16_809_999  # not representable in float32
    assert int(np.float32(idx[-1, -1])) != idx[-1, -1]


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_padding_acts_as_minus_infinity(lib):
    x = -np.ones((3, 3))
    out = lib.max_pool2d(x, 3, 1, padding=1)
    assert (out == -1).all()  # padding never wins, even against negative values
    x = np.full((2, 2), -np.inf)
    out, idx = lib.max_pool2d(x, 3, 1, padding=1, return_indices=True)
    assert idx[1, 1] == 0  # all cells -inf: the first real cell wins, never padding


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_average_divisors(lib):
    x = np.ones((3, 3))
    with_pad = lib.avg_pool2d(x, 3, 1, padding=1)
    assert with_pad[0, 0] == pytest.approx(4 / 9)  # 4 real cells, 9 counted
    assert lib.avg_pool2d(x, 3, 1, padding=1, count_include_pad=False)[0, 0] == 1.0
    assert lib.avg_pool2d(x, 3, 1, padding=1, divisor_override=2)[0, 0] == 2.0


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_ceil_mode_cells_past_the_padding_are_not_counted(lib):
    x = np.ones((1, 5))
    out = lib.avg_pool2d(x, (1, 2), (1, 2), ceil_mode=True)
    np.testing.assert_allclose(out, [[1, 1, 1]])  # last window holds one cell and divides by 1


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_same_padding_average_divides_by_valid_cells(lib):
    x = np.arange(1.0, 6.0)[None, :]
    out = lib.avg_pool2d(x, (1, 2), (1, 2), padding="same")
    np.testing.assert_allclose(out, [[1.5, 3.5, 5.0]])
    np.testing.assert_allclose(lib.max_pool2d(x, (1, 2), (1, 2), padding="same"), [[2, 4, 5]])


@pytest.mark.parametrize("lib", FUNCTIONS)
def test_average_backward_spreads_one_over_k_squared(lib):
    grad = lib.avg_pool2d_backward(np.ones((2, 2)), (4, 4), 2)
    np.testing.assert_allclose(grad, np.full((4, 4), 0.25))
    grad = lib.avg_pool2d_backward(np.ones((3, 3)), (5, 5), 3, 1)
    assert grad[2, 2] == pytest.approx(1.0)  # 9 windows x 1/9
    assert grad[0, 0] == pytest.approx(1 / 9)


def test_empty_batch_in_empty_batch_out():
    x = np.zeros((0, 3, 4, 4))
    assert pl.max_pool2d(x, 2).shape == (0, 3, 2, 2)
    assert pl.avg_pool2d(x, 2).shape == (0, 3, 2, 2)
    assert pl.max_pool2d_backward(np.zeros((0, 3, 2, 2)), x, 2).shape == (0, 3, 4, 4)
    assert pl.avg_pool2d_backward(np.zeros((0, 3, 2, 2)), (0, 3, 4, 4), 2).shape == (0, 3, 4, 4)


def test_shapes_keep_leading_axes():
    rng = np.random.default_rng(0)
    for shape in [(7, 6), (3, 7, 6), (2, 3, 7, 6)]:
        x = rng.standard_normal(shape)
        assert pl.max_pool2d(x, 2).shape == shape[:-2] + (3, 3)
        assert pl.avg_pool2d(x, (3, 2), (2, 1)).shape == shape[:-2] + (3, 5)


def test_global_and_adaptive_pooling():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(pl.global_max_pool2d(x)[:, 0, 0], [11, 23])
    np.testing.assert_array_equal(pl.global_avg_pool2d(x)[:, 0, 0], [5.5, 17.5])
    # 3 rows into 2 bins: [0, 2) and [1, 3) overlap on the middle row
    np.testing.assert_array_equal(pl.adaptive_max_pool2d(x[0], (2, 2)), [[5, 7], [9, 11]])
    np.testing.assert_allclose(pl.adaptive_avg_pool2d(x[0], (2, 1)), [[3.5], [7.5]])
    grad = pl.adaptive_max_pool2d_backward(np.ones((2, 2)), x[0], (2, 2))
    assert grad.sum() == 4 and grad[1, 1] == 1 and grad[2, 3] == 1


def test_unpooling_puts_values_back_where_they_came_from():
    x = np.random.default_rng(1).permutation(16).reshape(1, 4, 4).astype(float)
    out, idx = pl.max_pool2d(x, 2, return_indices=True)
    restored = pl.max_unpool2d(out, idx, (4, 4))
    assert restored.shape == x.shape
    assert np.count_nonzero(restored) == 4
    np.testing.assert_array_equal(restored[restored != 0], x[restored != 0])
    np.testing.assert_array_equal(pl.max_pool2d(restored, 2), out)
