"""Odd, huge and hostile inputs: each gets a right answer or a clear refusal (docs/semantics.md,
"Limits"), and nothing a caller holds is shared or written."""
import tracemalloc

import numpy as np
from hypothesis import given, settings, strategies as st
import pytest

import pooling_lib as pl
from pooling_lib import reference

X = np.arange(16.0).reshape(4, 4)


# --- windows and settings of any size ----------------------------------------------------------

def test_a_window_wider_than_65536_cells_finds_its_maximum():
    x = np.random.default_rng(0).standard_normal((1, 65_537))
    out, index = pl.max_pool2d(x, (1, 65_537), return_indices=True)
    assert out[0, 0] == x.max() and index[0, 0] == x.argmax()
    grad = pl.max_pool2d_backward([[2.0]], x, (1, 65_537))
    assert grad.sum() == 2.0 and grad[0, x.argmax()] == 2.0


def test_a_pool_of_a_billion_with_half_of_it_padding_covers_the_whole_input():
    x = np.random.default_rng(1).standard_normal((4, 4))
    big = dict(pool_size=10**9, stride=1, padding=5 * 10**8)
    np.testing.assert_array_equal(pl.max_pool2d(x, **big), np.full((5, 5), x.max()))
    np.testing.assert_allclose(pl.avg_pool2d(x, **big, count_include_pad=False), np.full((5, 5), x.mean()))
    assert pl.pool_output_size(4, **big) == 5


def test_the_loops_take_a_pool_of_a_billion_too():
    x = np.random.default_rng(6).standard_normal((2, 4, 3))
    big = dict(pool_size=(10**9, 3), stride=1, padding=(5 * 10**8, 1))
    np.testing.assert_array_equal(reference.max_pool2d(x, **big), pl.max_pool2d(x, **big))
    np.testing.assert_allclose(reference.avg_pool2d(x, **big), pl.avg_pool2d(x, **big), rtol=1e-12)
    g = np.random.default_rng(7).standard_normal(pl.avg_pool2d(x, **big).shape)
    np.testing.assert_allclose(reference.avg_pool2d_backward(g, x.shape, **big),
                               pl.avg_pool2d_backward(g, x.shape, **big), rtol=1e-12)


@pytest.mark.parametrize("name", ["pool_size", "stride", "padding", "dilation"])
@pytest.mark.parametrize("value", [2**40 + 1, 2**64, -(2**70)])
def test_ints_beyond_the_limit_are_refused_by_name(name, value):
    settings = {"pool_size": 2, name: value}
    for call in (lambda: pl.max_pool2d(X, **settings), lambda: pl.pool_output_size(4, **settings)):
        with pytest.raises(ValueError, match=f"{name} must be"):
            call()


def test_a_huge_input_shape_is_refused_before_anything_is_allocated():
    tracemalloc.start()
    for shape, words in [((2**70, 4), "input_shape must be at most 2\\*\\*40"),
                         ((2**30, 2**30), "input_shape asks for a result of shape"),
                         ((2**20, 2**20, 4, 4), "GiB")]:
        with pytest.raises(ValueError, match=words):
            pl.avg_pool2d_backward(np.ones((1, 1)), shape, 2**30)
        with pytest.raises(ValueError, match=words):
            pl.adaptive_avg_pool2d_backward(np.ones((1, 1)), shape, 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1 << 20


@pytest.mark.parametrize("call", [
    lambda: pl.adaptive_max_pool2d(X, 10**9),
    lambda: pl.adaptive_avg_pool2d(X, (10**6, 10**6)),
    lambda: pl.adaptive_max_pool2d_backward(np.ones((1, 1)), X, (1, 10**12)),
    lambda: pl.max_unpool2d(np.ones((1, 1)), np.zeros((1, 1), int), (10**6, 10**6)),
])
def test_output_sizes_no_array_could_hold_are_refused_at_once(call):
    with pytest.raises(ValueError, match="output_size asks for a result of shape .* GiB"):
        call()


def test_im2col_refuses_columns_no_array_could_hold():
    from pooling_lib import im2col
    for call in (lambda: im2col.max_pool2d(X, 10**9, 1, 5 * 10**8),
                 lambda: im2col.col2im(np.ones((1, 1)), (4, 4), 10**9, 1, 5 * 10**8),
                 lambda: im2col.im2col(np.ones((1000, 64, 64), np.uint8), 60, 1, 30)):  # 14 GiB of columns
        with pytest.raises(ValueError, match="pool_size asks for a result of shape .* GiB"):
            call()


def test_large_adaptive_outputs_are_right_and_quick():
    x = np.random.default_rng(2).standard_normal((2, 3, 5))
    for out in [(7, 11), (1, 40), (3, 1)]:
        np.testing.assert_array_equal(pl.adaptive_max_pool2d(x, out), reference.adaptive_max_pool2d(x, out))
        np.testing.assert_allclose(pl.adaptive_avg_pool2d(x, out), reference.adaptive_avg_pool2d(x, out))
    assert pl.adaptive_max_pool2d(np.ones((2, 2)), (3000, 3000)).shape == (3000, 3000)


def test_size_helper_and_same_padding_stay_small_for_huge_settings():
    tracemalloc.start()
    assert pl.pool_output_size(10**12, 3, 1, "same") == 10**12
    assert pl.pool_output_size(10**12, 3) == 333_333_333_333
    with pytest.raises(ValueError, match="holds no input cell"):
        pl.max_pool2d(X, 4, 1, "same", dilation=2**35)
    assert tracemalloc.get_traced_memory()[1] < 1 << 20
    tracemalloc.stop()


# --- settings of other types -------------------------------------------------------------------

def test_zero_dimensional_integer_arrays_are_ints():
    settings = dict(pool_size=np.array(3), stride=np.array(1), padding=np.array(1), dilation=np.array(1))
    np.testing.assert_array_equal(pl.max_pool2d(X, **settings), pl.max_pool2d(X, 3, 1, 1, 1))
    np.testing.assert_array_equal(pl.max_pool2d(X, np.array([3, 1])), pl.max_pool2d(X, (3, 1)))
    assert pl.pool_output_size(np.array(4), np.array(2)) == 2


@pytest.mark.parametrize("value, error, words", [
    (np.array(2.0), TypeError, "pool_size must be an int"),
    (np.array([[2, 2]]), ValueError, "pool_size must be an int or a pair"),
    (np.array([2, 2, 2]), ValueError, "pool_size must be an int or a pair"),
    (np.array(True), TypeError, "pool_size must be an int"),
])
def test_other_arrays_as_settings_are_refused(value, error, words):
    with pytest.raises(error, match=words):
        pl.max_pool2d(X, value)


@pytest.mark.parametrize("value", ["no", "yes", 0, 1, None, np.array(True), [True]])
def test_flags_must_be_true_or_false(value):
    for call, name in [(lambda: pl.max_pool2d(X, 2, return_indices=value), "return_indices"),
                       (lambda: reference.max_pool2d(X, 2, return_indices=value), "return_indices"),
                       (lambda: pl.max_pool1d(X[0], 2, return_indices=value), "return_indices"),
                       (lambda: pl.adaptive_max_pool2d(X, 2, return_indices=value), "return_indices"),
                       (lambda: pl.max_pool2d(X, 2, ceil_mode=value), "ceil_mode"),
                       (lambda: pl.avg_pool2d(X, 2, count_include_pad=value), "count_include_pad")]:
        with pytest.raises(TypeError, match=f"{name} must be True or False, got"):
            call()


# --- inputs of other types -----------------------------------------------------------------------

class Tensorish:
    """Converts like a CPU tensor (``__array__``), or refuses like one that needs gradients."""

    def __init__(self, data=None):
        self.data = data

    def __array__(self, dtype=None, copy=None):
        if self.data is None:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad")
        return np.asarray(self.data, dtype)


def test_what_converts_without_loss_gives_the_right_answer():
    expected = pl.max_pool2d(X, 2)
    for x in (X.tolist(), Tensorish(X), np.ma.masked_array(X), np.ma.masked_array(X, mask=False)):
        np.testing.assert_array_equal(pl.max_pool2d(x, 2), expected)
        np.testing.assert_array_equal(pl.MaxPool(2).forward(x), expected)


@pytest.mark.parametrize("call, name", [
    (lambda x: pl.max_pool2d(x, 2), "x"),
    (lambda x: pl.avg_pool2d(x, 2), "x"),
    (lambda x: pl.adaptive_max_pool2d(x, 2), "x"),
    (lambda x: pl.max_pool1d(x, 2), "x"),
    (lambda g: pl.max_pool2d_backward(g, X, 4), "grad_output"),
    (lambda g: pl.avg_pool2d_backward(g, X.shape, 4), "grad_output"),
])
def test_masks_are_never_dropped_and_failed_conversions_name_the_argument(call, name):
    masked = np.ma.masked_array(np.ones((4, 4)), mask=np.eye(4, dtype=bool))
    if name == "grad_output":
        masked = np.ma.masked_array([[1.0]], mask=[[True]])
    with pytest.raises(TypeError, match=f"{name} is a masked array with masked cells"):
        call(masked)
    with pytest.raises(TypeError, match=f"{name} must be a numeric array, could not convert it .*requires grad"):
        call(Tensorish())


# --- layers: checked when built, unchanged by a refused forward, private copies ------------------

@pytest.mark.parametrize("build, words", [
    (lambda: pl.MaxPool(0), "pool_size must be >= 1"),
    (lambda: pl.MaxPool(2, stride=0), "stride must be >= 1"),
    (lambda: pl.MaxPool(2, padding=2), "padding must be at most half"),
    (lambda: pl.MaxPool(2, padding="full"), "padding must be an int, a pair"),
    (lambda: pl.MaxPool(2, dilation=1.5), "dilation must be an int"),
    (lambda: pl.MaxPool(2, ceil_mode="no"), "ceil_mode must be True or False"),
    (lambda: pl.MaxPool(2, padding="same", ceil_mode=True), "ceil_mode=True works with numeric"),
    (lambda: pl.MaxPool(2, ties=None), "ties must be one of"),
    (lambda: pl.AvgPool((2, 2, 2)), "pool_size must be an int or a pair"),
    (lambda: pl.AvgPool(2, count_include_pad="no"), "count_include_pad must be True or False"),
    (lambda: pl.AvgPool(2**41), "pool_size must be at most"),
])
def test_layers_check_their_settings_when_built(build, words):
    with pytest.raises((TypeError, ValueError), match=words):
        build()


@pytest.mark.parametrize("layer, text", [
    (pl.MaxPool(np.int64(2)), "MaxPool(pool_size=2)"),
    (pl.MaxPool(np.array([2, 3]), stride=np.array(1)), "MaxPool(pool_size=[2, 3], stride=1)"),
    (pl.MaxPool([2, 3], padding=(1, 0), ceil_mode=np.True_), "MaxPool(pool_size=[2, 3], padding=(1, 0), ceil_mode=True)"),
    (pl.AvgPool(np.array(2), padding="same"), "AvgPool(pool_size=2, padding='same')"),
    (pl.AvgPool(2, count_include_pad=np.False_), "AvgPool(pool_size=2, count_include_pad=False)"),
])
def test_layers_say_what_they_are_for_every_accepted_setting(layer, text):
    assert repr(layer) == text
    assert layer.forward(X).ndim == 2


@pytest.mark.parametrize("make", [lambda: pl.MaxPool(2), lambda: pl.MaxPool(2, 1, ties="split"),
                                  lambda: pl.MaxPool(3, 1, ties="all"), lambda: pl.AvgPool(2, 1)])
def test_a_refused_forward_leaves_the_layer_as_it_was(make):
    layer, fresh = make(), make()
    x = np.random.default_rng(3).integers(0, 3, (2, 4, 4)).astype(float)
    g = np.random.default_rng(4).standard_normal(fresh.forward(x).shape)
    expected = fresh.backward(g)
    layer.forward(x)
    for bad in (np.ones((1, 1)), np.ones((3, 1, 1)), "text", np.ones((2, 2), complex)):
        with pytest.raises((TypeError, ValueError)):
            layer.forward(bad)
        np.testing.assert_array_equal(layer.backward(g), expected)
    with pytest.raises(ValueError, match="called before forward"):
        other = make()
        with pytest.raises(ValueError):
            other.forward(np.ones((1, 1)))
        other.backward(np.ones((1, 1)))


@pytest.mark.parametrize("ties", ["first", "last", "split", "all"])
def test_a_layer_keeps_what_it_needs_whatever_the_caller_does_to_its_arrays(ties):
    x = np.array([[5.0, 5.0, 1.0], [5.0, 2.0, 5.0], [0.0, 5.0, 5.0]])
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = pl.max_pool2d_backward(g, x, 2, 1, ties=ties)
    layer = pl.MaxPool(2, 1, ties=ties)
    y = layer.forward(x)
    y *= 2          # the caller changes the output ...
    x[...] = 0      # ... and the input
    np.testing.assert_array_equal(layer.backward(g), expected)


# --- nothing shared, nothing written -----------------------------------------------------------

CALLS = {
    "max_pool2d": lambda x: pl.max_pool2d(x, 1),
    "max_pool2d indices": lambda x: pl.max_pool2d(x, 1, return_indices=True)[0],
    "max_pool2d 2x2": lambda x: pl.max_pool2d(x, 2, 1),
    "max_pool2d_backward": lambda x: pl.max_pool2d_backward(x, x, 1),
    "max_pool2d_backward split": lambda x: pl.max_pool2d_backward(x, x, 1, ties="split"),
    "max_pool2d_backward all": lambda x: pl.max_pool2d_backward(x, x, 1, ties="all"),
    "avg_pool2d": lambda x: pl.avg_pool2d(x, 1),
    "avg_pool2d_backward": lambda x: pl.avg_pool2d_backward(x, x.shape, 1),
    "adaptive_max_pool2d": lambda x: pl.adaptive_max_pool2d(x, x.shape[-2:]),
    "adaptive_avg_pool2d": lambda x: pl.adaptive_avg_pool2d(x, x.shape[-2:]),
    "adaptive_max_pool2d_backward": lambda x: pl.adaptive_max_pool2d_backward(x, x, x.shape[-2:]),
    "adaptive_avg_pool2d_backward": lambda x: pl.adaptive_avg_pool2d_backward(x, x.shape, x.shape[-2:]),
    "max_unpool2d": lambda x: pl.max_unpool2d(x, np.arange(x.size).reshape(x.shape), x.shape),
    "max_pool1d": lambda x: pl.max_pool1d(x[0], 1),
    "avg_pool1d_backward": lambda x: pl.avg_pool1d_backward(x[0], x[0].shape, 1),
    "MaxPool": lambda x: pl.MaxPool(1).forward(x),
    "MaxPool backward": lambda x: (lambda layer: (layer.forward(x), layer.backward(x))[1])(pl.MaxPool(1)),
    "AvgPool backward": lambda x: (lambda layer: (layer.forward(x), layer.backward(x))[1])(pl.AvgPool(1)),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("shape", [(3, 5), (70, 70)])  # the small-input path, and the others
def test_results_never_share_memory_with_the_caller_and_inputs_are_never_written(name, shape):
    x = np.random.default_rng(5).standard_normal(shape)
    x.flags.writeable = False  # a write would raise
    result = CALLS[name](x)
    assert not np.shares_memory(result, x)
    result[...] = 0  # and writing to the result leaves x alone
    assert np.isfinite(x).all() and x.any()


# --- layouts: the same answers whatever the memory layout --------------------------------------

LAYOUTS = {
    "big-endian": lambda x: x.astype(x.dtype.newbyteorder(">")),
    "every other cell": lambda x: np.repeat(x, 2, axis=-1)[..., ::2],
    "reversed": lambda x: np.ascontiguousarray(x[..., ::-1, ::-1])[..., ::-1, ::-1],
    "read-only": lambda x: (lambda y: (y.setflags(write=False), y)[1])(x.copy()),
    "Fortran order": np.asfortranarray,
    "transposed view": lambda x: np.ascontiguousarray(np.swapaxes(x, -1, -2)).swapaxes(-1, -2),
}

LAYOUT_CALLS = {
    "max": lambda x: pl.max_pool2d(x, 3, 2, 1, return_indices=True),
    "max dilated ceil": lambda x: pl.max_pool2d(x, 2, 2, dilation=2, ceil_mode=True, return_indices=True),
    "max backward": lambda x: pl.max_pool2d_backward(np.ones(pl.max_pool2d(x, 3, 1).shape), x, 3, 1),
    "max backward split": lambda x: pl.max_pool2d_backward(np.ones(pl.max_pool2d(x, 2, 1).shape), x, 2, 1, ties="split"),
    "avg": lambda x: pl.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "avg backward": lambda x: pl.avg_pool2d_backward(x, x.shape, 1),
    "adaptive max": lambda x: pl.adaptive_max_pool2d(x, (3, 5), return_indices=True),
    "adaptive avg": lambda x: pl.adaptive_avg_pool2d(x, (3, 5)),
    "layer": lambda x: (lambda layer: (layer.forward(x), layer.backward(layer.output))[1])(pl.MaxPool(2, ties="all")),
}


@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from([(5, 7), (2, 6, 6), (2, 3, 9, 8), (1, 2, 70, 70)]),
       dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int16, np.int64]),
       seed=st.integers(0, 2**32 - 1), layout=st.sampled_from(sorted(LAYOUTS)),
       call=st.sampled_from(sorted(LAYOUT_CALLS)))
def test_every_layout_gives_the_answer_of_an_ordinary_array(shape, dtype, seed, layout, call):
    x = np.random.default_rng(seed).integers(-3, 4, shape).astype(dtype)  # ties on purpose
    strange = LAYOUTS[layout](x)
    np.testing.assert_array_equal(strange, x)
    for got, expected in zip(pieces(LAYOUT_CALLS[call](strange)), pieces(LAYOUT_CALLS[call](x))):
        assert got.dtype == expected.dtype and got.dtype.isnative
        np.testing.assert_array_equal(got, expected)


def pieces(result):
    """A function's result as a tuple of arrays."""
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("shape", [(9, 9), (1, 4, 90, 90)])  # the small-input path, and the others
def test_float16_means_add_up_in_float32_and_do_not_overflow(shape):
    x = np.full(shape, 30000, np.float16)  # nine of them add up to 270000, beyond float16's 65504
    np.testing.assert_array_equal(pl.avg_pool2d(x, 3), np.full(shape[:-2] + (shape[-2] // 3,) * 2, 30000, np.float16))
    np.testing.assert_array_equal(reference.avg_pool2d(x[..., :9, :9], 3), np.full(shape[:-2] + (3, 3), 30000, np.float16))
    np.testing.assert_array_equal(pl.adaptive_avg_pool2d(x, 1), np.full(shape[:-2] + (1, 1), 30000, np.float16))
    g = np.full(shape[:-2] + (1, 1), 60000, np.float16)  # 60000 shared by 9: each gets 6666.67
    grad = pl.avg_pool2d_backward(g, shape[:-2] + (3, 3), 3, 1)
    assert grad.dtype == np.float16 and np.allclose(grad, 60000 / 9, rtol=1e-3)
    many = np.full(shape[:-2] + (3, 3), 30000, np.float16)
    with np.errstate(over="ignore"):  # 9 windows share the centre: 270000 rounds to inf
        total = pl.avg_pool2d_backward(many, shape[:-2] + (5, 5), 3, 1, divisor_override=1)
    assert np.isinf(total[..., 2, 2]).all() and total[..., 0, 0].max() == 30000  # ... only at the end


@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(4, 6), (3, 40, 40)]),
       pool=st.integers(1, 3), stride=st.integers(1, 3))
def test_a_maximum_of_zero_has_the_sign_of_the_cell_its_index_names(seed, shape, pool, stride):
    x = np.random.default_rng(seed).choice([0.0, -0.0, -1.0], size=shape)
    out, index = pl.max_pool2d(x, pool, stride, return_indices=True)
    planes = x.reshape(-1, shape[-2] * shape[-1])
    picked = np.take_along_axis(planes, index.reshape(len(planes), -1), axis=1).reshape(out.shape)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(picked))
    np.testing.assert_array_equal(np.signbit(out), np.signbit(reference.max_pool2d(x, pool, stride)))
