"""The fast functions against the readable loops, over random shapes, settings, ties and NaNs."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import pooling_lib as pl
from pooling_lib import _engine, im2col, reference
from pooling_lib.geometry import TIES


@pytest.fixture(params=["small-input path", "separable path"])
def path(request, monkeypatch):
    """Run a test through both code paths of the fast functions."""
    if request.param == "separable path":
        monkeypatch.setattr(_engine, "SMALL", -1)
        monkeypatch.setattr(_engine, "SMALL_MAX", -1)
        monkeypatch.setattr(_engine, "CHUNK_BYTES", 64)  # several chunks even for tiny inputs
    return request.param


@st.composite
def inputs(draw, axes=st.integers(2, 4), max_side=7, floats=True):
    """An input with 2-4 axes: tie-heavy small integers, optionally with NaN and -inf."""
    ndim = draw(axes)
    lead = [draw(st.integers(0, 3))] if ndim == 4 else []  # N == 0 is an empty batch
    lead += [draw(st.integers(1, 3))] if ndim >= 3 else []
    shape = tuple(lead) + (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["ties", "distinct", "nan", "int"] if floats else ["int"]))
    if kind == "int":
        return rng.integers(-3, 3, shape).astype(draw(st.sampled_from([np.int8, np.int64, np.uint8])))
    x = rng.integers(-2, 3, shape).astype(float) if kind != "distinct" else rng.standard_normal(shape)
    if kind == "nan":
        x[rng.random(shape) < 0.25] = np.nan
        x[rng.random(shape) < 0.2] = -np.inf
    return x.astype(draw(st.sampled_from([np.float32, np.float64])))


pairs = st.tuples(st.integers(1, 4), st.integers(1, 4))


@st.composite
def max_settings(draw):
    pool = draw(pairs)
    padding = draw(st.one_of(
        st.tuples(st.integers(0, pool[0] // 2), st.integers(0, pool[1] // 2)),
        st.sampled_from(["valid", "same"])))
    return dict(pool_size=pool, stride=draw(st.one_of(st.none(), pairs)), padding=padding,
                dilation=draw(st.tuples(st.integers(1, 3), st.integers(1, 3))),
                ceil_mode=draw(st.booleans()) if not isinstance(padding, str) else False)


def refused(call):
    """Run call(); None if the settings are refused (with a ValueError), as docs/semantics.md requires."""
    try:
        return call()
    except ValueError:
        return None


def same(a, b):
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12, equal_nan=True)


@given(x=inputs(), s=max_settings(), ties=st.sampled_from(TIES))
def test_max_pool_matches_the_loops(path, x, s, ties):
    expected = refused(lambda: reference.max_pool2d(x, **s, return_indices=True))
    if expected is None:
        with pytest.raises(ValueError):
            pl.max_pool2d(x, **s)
        return
    out, idx = pl.max_pool2d(x, **s, return_indices=True)
    same(out, expected[0])
    np.testing.assert_array_equal(idx, expected[1])
    grad = np.random.default_rng(0).standard_normal(out.shape)
    same(pl.max_pool2d_backward(grad, x, **s, ties=ties),
         reference.max_pool2d_backward(grad, x, **s, ties=ties))


@st.composite
def avg_settings(draw):
    s = draw(max_settings())
    del s["dilation"]
    s["count_include_pad"] = draw(st.booleans())
    s["divisor_override"] = draw(st.sampled_from([None, None, 1, 3, -2]))
    return s


@given(x=inputs(), s=avg_settings())
def test_avg_pool_matches_the_loops(path, x, s):
    x = np.nan_to_num(x, nan=0.0, neginf=0.0) if x.dtype.kind == "f" else x
    expected = refused(lambda: reference.avg_pool2d(x, **s))
    if expected is None:
        with pytest.raises(ValueError):
            pl.avg_pool2d(x, **s)
        return
    out = pl.avg_pool2d(x, **s)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)  # float32 sums in another order
    assert out.dtype == expected.dtype
    grad = np.random.default_rng(0).standard_normal(out.shape)
    np.testing.assert_allclose(pl.avg_pool2d_backward(grad, x.shape, **s),
                               reference.avg_pool2d_backward(grad, x.shape, **s), rtol=1e-12)


@given(x=inputs(axes=st.integers(1, 3).map(lambda n: n + 1)), k=st.integers(1, 4),
       stride=st.integers(1, 3), pad=st.integers(0, 2), dilation=st.integers(1, 2))
def test_1d_pooling_is_2d_pooling_over_one_row(x, k, stride, pad, dilation):
    rows = x[..., :1, :].squeeze(-2)  # 1 to 3 axes
    s2 = dict(pool_size=(1, k), stride=(1, stride), padding=(0, pad), dilation=(1, dilation))
    expected = refused(lambda: reference.max_pool2d(rows[..., None, :], **s2))
    if expected is None:
        with pytest.raises(ValueError):
            pl.max_pool1d(rows, k, stride, pad, dilation)
        return
    same(pl.max_pool1d(rows, k, stride, pad, dilation), expected[..., 0, :])
    grad = np.ones(expected.shape[:-2] + expected.shape[-1:])
    same(pl.max_pool1d_backward(grad, rows, k, stride, pad, dilation),
         reference.max_pool2d_backward(grad[..., None, :], rows[..., None, :], **s2)[..., 0, :])


@given(x=inputs(max_side=9), out=pairs)
def test_adaptive_pooling_matches_the_loops(x, out):
    expected, expected_idx = reference.adaptive_max_pool2d(x, out, return_indices=True)
    result, idx = pl.adaptive_max_pool2d(x, out, return_indices=True)
    same(result, expected)
    np.testing.assert_array_equal(idx, expected_idx)
    if x.dtype.kind == "f":
        x = np.nan_to_num(x, nan=0.0, neginf=0.0)
    np.testing.assert_allclose(pl.adaptive_avg_pool2d(x, out), reference.adaptive_avg_pool2d(x, out),
                               rtol=1e-5, atol=1e-5)  # float32 sums in another order


@given(x=inputs(), s=max_settings())
def test_im2col_matches_the_loops(x, s):
    assume(not s["ceil_mode"])
    s.pop("ceil_mode")
    expected = refused(lambda: reference.max_pool2d(x, **s))
    assume(expected is not None)
    same(im2col.max_pool2d(x, **s), expected)
    grad = np.random.default_rng(0).standard_normal(expected.shape)
    same(im2col.max_pool2d_backward(grad, x, **s), reference.max_pool2d_backward(grad, x, **s))


@given(x=inputs(axes=st.just(3), floats=False), pool=pairs, stride=pairs)
def test_col2im_adds_back_what_im2col_unfolded(x, pool, stride):
    assume(pool[0] <= x.shape[1] and pool[1] <= x.shape[2])
    columns = im2col.im2col(x, pool, stride)
    # folding back a matrix of ones counts how many windows hold each cell
    counts = im2col.col2im(np.ones(columns.shape), x.shape, pool, stride)
    expected = reference.avg_pool2d_backward(np.ones(pl.max_pool2d(x, pool, stride).shape),
                                             x.shape, pool, stride, divisor_override=1)
    np.testing.assert_array_equal(counts, expected)


@given(x=inputs(), s=max_settings(), ties=st.sampled_from(TIES))
def test_max_layer_matches_the_functions(path, x, s, ties):
    layer = pl.MaxPool(**s, ties=ties)
    out = refused(lambda: layer.forward(x))
    assume(out is not None)
    same(out, pl.max_pool2d(x, **s))
    grad = np.random.default_rng(1).standard_normal(out.shape)
    same(layer.backward(grad, 0.1), pl.max_pool2d_backward(grad, x, **s, ties=ties))


@given(x=inputs(), s=avg_settings())
def test_avg_pool_with_infinities_and_nans_matches_the_loops(path, x, s):
    expected = refused(lambda: reference.avg_pool2d(x, **s))
    assume(expected is not None)
    np.testing.assert_allclose(pl.avg_pool2d(x, **s), expected, rtol=1e-5, atol=1e-5, equal_nan=True)
    grad = np.random.default_rng(2).standard_normal(expected.shape)
    if x.dtype.kind == "f" and x.size:
        grad.flat[0] = np.inf  # one infinite gradient reaches only the cells of its window
    np.testing.assert_allclose(pl.avg_pool2d_backward(grad, x.shape, **s),
                               reference.avg_pool2d_backward(grad, x.shape, **s), equal_nan=True)


@given(x=inputs(), s=avg_settings())
def test_avg_layer_matches_the_functions(path, x, s):
    s.pop("divisor_override")
    layer = pl.AvgPool(**s)
    out = refused(lambda: layer.forward(x))
    assume(out is not None)
    np.testing.assert_array_equal(out, pl.avg_pool2d(x, **s))
    grad = np.random.default_rng(1).standard_normal(out.shape)
    np.testing.assert_array_equal(layer.backward(grad, 0.1), pl.avg_pool2d_backward(grad, x.shape, **s))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool, stride, dilation", [(3, 2, 1), ((3, 4), (2, 3), 1), (2, 2, 2), (3, 1, 1)])
def test_large_inputs_take_the_same_route_as_the_loops(path, dtype, pool, stride, dilation):
    # the backward pass of large inputs picks its method by dtype and window layout: each agrees
    x = np.random.default_rng(5).integers(-3, 3, (2, 3, 13, 11)).astype(dtype)
    grad = np.random.default_rng(6).standard_normal(pl.max_pool2d(x, pool, stride, dilation=dilation).shape)
    same(pl.max_pool2d_backward(grad, x, pool, stride, dilation=dilation),
         reference.max_pool2d_backward(grad, x, pool, stride, dilation=dilation))
    layer = pl.MaxPool(pool, stride, dilation=dilation)
    layer.forward(x)
    same(layer.backward(grad), reference.max_pool2d_backward(grad, x, pool, stride, dilation=dilation))
