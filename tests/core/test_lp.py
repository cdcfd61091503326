"""Lp pooling: the fast functions against the readable loops, numerical gradient checks, and
the rules of docs/semantics.md, section 15 (negative inputs, all-zero windows, ceil_mode, dtypes,
refused settings)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import pooling_lib as pl
from pooling_lib import reference
from test_properties import inputs, pairs, path, refused  # noqa: F401  (path: a fixture)

NORMS = [1, 1.5, 2, 3, 4, 7.5, np.inf]
INF = float("inf")


@st.composite
def lp_settings(draw):
    return dict(norm_type=draw(st.sampled_from(NORMS)), pool_size=draw(pairs),
                stride=draw(st.one_of(st.none(), pairs)), ceil_mode=draw(st.booleans()))


def close(a, b):
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=2e-5 if a.dtype != np.float64 else 1e-10, atol=1e-6,
                               equal_nan=True)


@given(x=inputs(), s=lp_settings())
def test_lp_pool_matches_the_loops(path, x, s):
    """Ties, zeros, negatives, NaN and -inf included: where the loops give NaN, so do we."""
    expected = refused(lambda: reference.lp_pool2d(x, **s))
    if expected is None:
        with pytest.raises(ValueError):
            pl.lp_pool2d(x, **s)
        return
    close(pl.lp_pool2d(x, **s), expected)
    grad = np.random.default_rng(0).standard_normal(expected.shape)
    close(pl.lp_pool2d_backward(grad, x, **s), reference.lp_pool2d_backward(grad, x, **s))


@pytest.mark.parametrize("p", [1, 1.5, 2, 3, INF])
@pytest.mark.parametrize("settings", [dict(pool_size=2), dict(pool_size=3, stride=1),
                                      dict(pool_size=(2, 3), stride=2, ceil_mode=True)])
def test_the_gradient_matches_a_numerical_one(p, settings):
    # well-separated positive values: no ties, no zero windows (see semantics section 11)
    x = np.random.default_rng(3).permutation(2 * 7 * 7).reshape(2, 7, 7) * 0.02 + 0.5  # 0.5 to 2.4
    g = np.random.default_rng(4).uniform(0.5, 1.5, pl.lp_pool2d(x, p, **settings).shape)  # no cancelling
    numeric = pl.numerical_gradient(lambda v: pl.lp_pool2d(v, p, **settings), x, g)
    assert pl.relative_error(pl.lp_pool2d_backward(g, x, p, **settings), numeric) < 1e-7


def test_p_1_is_the_sum_p_2_the_length_and_inf_the_largest_absolute_value():
    x = np.random.default_rng(5).standard_normal((3, 6, 6))
    np.testing.assert_allclose(pl.lp_pool2d(np.abs(x), 1, 2), pl.avg_pool2d(np.abs(x), 2) * 4)
    np.testing.assert_allclose(pl.lp_pool2d(x, 2, 3, 1), np.sqrt(pl.avg_pool2d(x * x, 3, 1) * 9))
    np.testing.assert_array_equal(pl.lp_pool2d(x, INF, 2), pl.max_pool2d(np.abs(x), 2))


def test_the_power_mean_climbs_from_the_average_to_the_maximum():
    x = np.abs(np.random.default_rng(6).standard_normal((4, 6, 6))) + 0.01
    means = [pl.lp_pool2d(x, p, 3) / 9 ** (1 / p) for p in (1, 2, 4, 8, 32, 128)]
    np.testing.assert_allclose(means[0], pl.avg_pool2d(x, 3))
    assert all(np.all(a <= b + 1e-12) for a, b in zip(means, means[1:]))   # never falls as p grows
    np.testing.assert_allclose(means[-1], pl.max_pool2d(x, 3), rtol=0.02)   # and reaches the max


def test_negative_inputs_are_raised_to_the_power_as_they_are():
    x = -np.array([[1., 2.], [2., 4.]])
    assert pl.lp_pool2d(x, 2, 2).item() == 5.0 and pl.lp_pool2d(x, 4, 2).item() > 0   # even p
    assert pl.lp_pool2d(x, 1, 2).item() == -9.0                                        # a negative sum
    assert np.isnan(pl.lp_pool2d(x, 3, 2).item()) and np.isnan(pl.lp_pool2d(x, 1.5, 2).item())
    mixed = np.array([[1., -3.], [2., 0.5]])
    assert pl.lp_pool2d(mixed, INF, 2).item() == 3.0
    np.testing.assert_array_equal(pl.lp_pool2d_backward(np.ones((1, 1)), mixed, INF, 2),
                                  [[0, -1], [0, 0]])   # to the largest |x|, with its sign


def test_an_all_zero_window_has_value_0_and_sends_no_gradient():
    x = np.zeros((4, 4))
    x[2:, 2:] = [[1., 2.], [3., 4.]]
    for p in (1, 1.5, 2, 3):
        out = pl.lp_pool2d(x, p, 2)
        assert out[0, 0] == 0 and out[1, 1] > 0
        grad = pl.lp_pool2d_backward(np.full((2, 2), 5.0), x, p, 2)
        assert np.all(grad[:2, :2] == 0) and np.all(np.isfinite(grad)) and np.all(grad[2:, 2:] > 0)


def test_windows_cut_short_by_ceil_mode_are_scaled_to_the_full_window_in_values_and_gradients():
    v = np.array([[3., 4., 12.]])
    out = pl.lp_pool2d(v, 2, (1, 2), ceil_mode=True)
    np.testing.assert_allclose(out, [[5.0, np.sqrt(2 * 12.0 ** 2)]])   # not 12, the cells' own norm
    grad = pl.lp_pool2d_backward(np.ones((1, 2)), v, 2, (1, 2), ceil_mode=True)
    np.testing.assert_allclose(grad, [[3 / 5, 4 / 5, 2 * 12 / np.sqrt(2 * 144)]])
    numeric = pl.numerical_gradient(lambda u: pl.lp_pool2d(u, 2, (1, 2), ceil_mode=True), v,
                                    np.ones((1, 2)))
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


@pytest.mark.parametrize("dtype, expected", [(np.float64, np.float64), (np.float32, np.float32),
                                             (np.float16, np.float16), (np.int64, np.float64),
                                             (np.uint8, np.float64)])
def test_floats_keep_their_dtype_and_integers_give_float64(dtype, expected):
    x = np.arange(1, 17).reshape(4, 4).astype(dtype)
    for p in (2, INF):
        out = pl.lp_pool2d(x, p, 2)
        assert out.dtype == expected == reference.lp_pool2d(x, p, 2).dtype
        assert pl.lp_pool2d_backward(np.ones(out.shape), x, p, 2).dtype == expected


def test_float16_works_in_float32():
    y = pl.lp_pool2d(np.full((2, 2), 300, np.float16), 2, 2)
    assert y.dtype == np.float16 and y.item() == 600      # 300² overflows float16


@pytest.mark.parametrize("norm_type, error, shown", [
    (0, ValueError, "got 0"), (-2, ValueError, "got -2"), (float("nan"), ValueError, "got nan"),
    (-INF, ValueError, "got -inf"), ("2", TypeError, "got '2' (str)"), (True, TypeError, "got True (bool)"),
    (None, TypeError, "got None (NoneType)"), ([2], TypeError, "got [2] (list)"),
    (np.array([2.0]), TypeError, "(ndarray)")])
def test_a_norm_type_that_is_not_a_positive_number_is_refused_by_name(norm_type, error, shown):
    x = np.ones((4, 4))
    for call in (lambda: pl.lp_pool2d(x, norm_type, 2),
                 lambda: pl.lp_pool2d_backward(np.ones((2, 2)), x, norm_type, 2),
                 lambda: reference.lp_pool2d(x, norm_type, 2)):
        with pytest.raises(error, match="norm_type must be a number > 0 or inf") as caught:
            call()
        assert shown in str(caught.value)


def test_numpy_numbers_and_0_d_arrays_count_as_norm_types():
    x = np.arange(16.0).reshape(4, 4)
    expected = pl.lp_pool2d(x, 2, 2)
    for p in (np.int64(2), np.float32(2), np.array(2.0), np.array(2)):
        np.testing.assert_array_equal(pl.lp_pool2d(x, p, 2), expected)


def test_pool_and_stride_follow_the_usual_rules():
    x = np.ones((4, 4))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        pl.lp_pool2d(x, 2, 2, stride=0)
    with pytest.raises(TypeError, match="ceil_mode must be True or False"):
        pl.lp_pool2d(x, 2, 2, ceil_mode="yes")
    with pytest.raises(ValueError, match="grad_output"):
        pl.lp_pool2d_backward(np.ones((3, 3)), x, 2, 2)


def test_a_cell_no_window_reaches_gets_0_even_where_its_power_is_nan():
    x = np.array([[4.0, -1.0, 9.0]])                    # stride 2: the -1 is in no window
    grad = pl.lp_pool2d_backward(np.ones((1, 2)), x, 1.5, (1, 1), stride=2)
    np.testing.assert_array_equal(grad, [[1.0, 0.0, 1.0]])


def test_powers_that_cancel_to_0_send_nothing_back_as_in_pytorch():
    x = np.array([[2.0, -2.0, 1.0, 3.0]])
    assert pl.lp_pool2d(x, 3, (1, 2)).tolist()[0][0] == 0.0
    grad = pl.lp_pool2d_backward(np.ones((1, 2)), x, 3, (1, 2))
    assert grad[0, 0] == grad[0, 1] == 0 and grad[0, 2] > 0 and grad[0, 3] > 0
    np.testing.assert_array_equal(pl.lp_pool2d_backward(np.ones((1, 2)), x, 1, (1, 2)),
                                  [[0, 0, 1, 1]])      # even at p = 1, PyTorch's rule
