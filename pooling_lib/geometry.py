"""Where the pooling windows go, and every rule on settings, shapes and dtypes.

Everything here works on one spatial axis at a time. An axis is described by an
:class:`Axis` (input length, pool, stride, dilation, padding on each side and the
output length); :func:`plan` builds the two axes of a 2-D pooling and refuses
impossible settings with a ``ValueError`` / ``TypeError`` that names the parameter.
:func:`avg_plan` and :func:`max_backward_args` add the checks of average pooling and of
the max backward pass, :func:`adaptive_bins` places adaptive windows, and
:func:`result_dtype` is the dtype rule of means and gradients. The rules themselves are
written out, with examples, in docs/semantics.md; this module is their one implementation.
"""
from functools import lru_cache
from math import ceil, prod
from typing import NamedTuple

import numpy as np

PADDING_STRINGS = ("valid", "same")
TIES = ("first", "last", "split", "all")  # how max pooling's backward pass treats tied cells


class Axis(NamedTuple):
    """Window geometry along one axis.

    Window ``i`` (``0 <= i < out``) starts at ``i * stride - pad_before`` and holds the
    cells ``start + k * dilation`` for ``k < pool``; cells outside ``[0, size)`` are padding.
    ``pad_after`` is the padding on the far side that average pooling may count.
    """

    size: int
    pool: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    out: int

    def starts(self):
        """First cell of every window, shape ``(out,)``."""
        return np.arange(self.out) * self.stride - self.pad_before

    def valid_range(self, k):
        """Windows ``[lo, hi)`` whose tap ``k`` lies inside the input, and that tap's first cell."""
        shift = k * self.dilation - self.pad_before
        lo = max(0, -(shift // self.stride))
        hi = max(lo, min(self.out, (self.size - 1 - shift) // self.stride + 1))
        return lo, hi, lo * self.stride + shift

    def input_slice(self, k):
        """``(output slice, input slice)`` pairing window ``i`` with its tap ``k``, inside the input."""
        lo, hi, first = self.valid_range(k)
        if lo == hi:
            return slice(0, 0), slice(0, 0)
        return slice(lo, hi), slice(first, first + (hi - lo - 1) * self.stride + 1, self.stride)

    def tap_valid(self):
        """Boolean ``(out, pool)``: is tap ``k`` of window ``i`` inside the input?"""
        cells = self.starts()[:, None] + np.arange(self.pool) * self.dilation
        return (cells >= 0) & (cells < self.size)

    def counts(self, include_pad):
        """Cells per window, shape ``(out,)``: inside ``[-pad_before, size + pad_after)``
        when ``include_pad``, else inside the input."""
        cells = self.starts()[:, None] + np.arange(self.pool) * self.dilation
        low, high = (-self.pad_before, self.size + self.pad_after) if include_pad else (0, self.size)
        return ((cells >= low) & (cells < high)).sum(axis=1)


def as_int(value, name, minimum=None):
    """``value`` as a Python int, refusing bools, floats and strings with a ``TypeError``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def as_pair(value, name, minimum=None):
    """An int or an ``(h, w)`` pair as a tuple of two ints (each checked by :func:`as_int`)."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        try:
            return tuple(as_int(v, name, minimum) for v in value)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{error} in {name}={value!r}") from None
    return (as_int(value, name, minimum),) * 2


def formula_size(size, pool, stride, padding, dilation, ceil_mode):
    """The output-size formula for numeric ``padding``, before :func:`axis` applies the ceil-mode
    rule: ``floor((size + 2 * padding - dilation * (pool - 1) - 1) / stride) + 1``, ``ceil``
    instead of ``floor`` when ``ceil_mode``."""
    span = size + 2 * padding - (dilation * (pool - 1) + 1)
    return (-(-span // stride) if ceil_mode else span // stride) + 1


def axis(size, pool, stride, padding, dilation, ceil_mode):
    """Build one :class:`Axis` from checked ints (``padding`` may be ``"valid"``/``"same"``)."""
    eff = dilation * (pool - 1) + 1
    if isinstance(padding, str):
        if padding == "valid":
            out = formula_size(size, pool, stride, 0, dilation, False)
            before = after = 0
        else:
            out = ceil(size / stride)
            total = max((out - 1) * stride + eff - size, 0)
            before, after = total // 2, total - total // 2
    else:
        if padding > pool // 2:
            raise ValueError(
                f"padding must be at most half the pool size (pool // 2 = {pool // 2}), "
                f"got padding={padding} with pool_size={pool}")
        before = after = padding
        out = formula_size(size, pool, stride, padding, dilation, ceil_mode)
        if ceil_mode and (out - 1) * stride >= size + padding:
            out -= 1  # the ceil-mode rule: the last window must start inside the input or the left padding
    if out < 1:
        raise ValueError(
            f"output size must be >= 1, but an input of size {size} with pool_size={pool}, "
            f"stride={stride}, padding={padding!r}, dilation={dilation} gives {out}")
    ax = Axis(size, pool, stride, dilation, before, after, out)
    empty = ~ax.tap_valid().any(axis=1)
    if empty.any():
        raise ValueError(
            f"window {int(np.argmax(empty))} holds no input cell (only padding) for size {size}, "
            f"pool_size={pool}, stride={stride}, padding={padding!r}, dilation={dilation}; "
            "use a smaller dilation or padding")
    return ax


def check_padding(padding):
    """Padding as ``"valid"``/``"same"`` or an ``(h, w)`` pair of ints >= 0."""
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS:
            raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        return (padding, padding)
    return as_pair(padding, "padding", 0)


def make_plan(shape, pool_size, stride, padding, dilation, ceil_mode):
    """Check the settings and build the two :class:`Axis` of planes ``shape = (H, W)``."""
    pool = as_pair(pool_size, "pool_size", 1)
    strides = pool if stride is None else as_pair(stride, "stride", 1)
    pads = check_padding(padding)
    dils = as_pair(dilation, "dilation", 1)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    if ceil_mode and isinstance(padding, str):
        raise ValueError(f"ceil_mode=True works with numeric padding only, got padding={padding!r}")
    return tuple(axis(shape[i], pool[i], strides[i], pads[i], dils[i], bool(ceil_mode)) for i in (0, 1))


PLANS = {}  # settings already checked, keyed with their types (so 2.0 or True never pass for 2)


def _typed(value):
    if isinstance(value, (tuple, list, np.ndarray)):
        return tuple((type(v), v) for v in value)
    return type(value), value


def plan(shape, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The two :class:`Axis` of a 2-D pooling over planes of ``shape = (H, W)``; cached."""
    settings = (pool_size, stride, padding, dilation, ceil_mode)
    try:
        key = (tuple(shape),) + tuple(map(_typed, settings))
        found = PLANS.get(key)
    except TypeError:  # unhashable settings: make_plan says what is wrong with them
        return make_plan(shape, *settings)
    if found is None:
        if len(PLANS) >= 1024:
            PLANS.clear()
        found = PLANS[key] = make_plan(shape, *settings)
    return found


def pool_output_size(size, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Number of windows along one axis of length ``size`` (the formula in docs/semantics.md).

    >>> pool_output_size(4, 2, 1), pool_output_size(4, 2, 2), pool_output_size(4, 2, 3, 1, ceil_mode=True)
    (3, 2, 2)
    """
    size = as_int(size, "size", 1)
    for value, name in ((pool_size, "pool_size"), (stride, "stride"), (dilation, "dilation")):
        if value is not None:
            as_int(value, name)
    if not isinstance(padding, str):
        as_int(padding, "padding")
    return plan((size, size), pool_size, stride, padding, dilation, ceil_mode)[0].out


RANKS = "(H, W), (C, H, W) or (N, C, H, W)"


def of_kind(a, kinds, requirement):
    """The array ``a`` if its dtype kind is one of ``kinds`` (e.g. ``"iuf"``: ints and floats),
    else a ``TypeError`` saying ``requirement`` and the dtype."""
    if a.dtype.kind not in kinds:
        raise TypeError(f"{requirement}, got dtype {a.dtype}")
    return a


def as_array_of_rank(x, name, ranks, shapes):
    """``x`` as a NumPy array of ints or floats with a number of axes in ``ranks`` (a
    ``TypeError`` / ``ValueError`` otherwise); ``shapes`` describes them, e.g. :data:`RANKS`."""
    try:
        x = np.asarray(x)
    except ValueError as error:
        raise TypeError(f"{name} must be a numeric array, could not convert it: {error}") from None
    if x.dtype.kind in "iuf" and x.ndim in ranks:  # the usual case first: no error to choose
        return x
    of_kind(x, "iuf", f"{name} must hold ints or floats")
    raise ValueError(f"{name} must have shape {shapes}, got shape {x.shape} ({x.ndim} axes)")


def as_input(x, name="x"):
    """``x`` as a numeric array of 2, 3 or 4 axes with non-empty planes (``N == 0`` allowed)."""
    x = as_array_of_rank(x, name, (2, 3, 4), RANKS)
    if min(x.shape[1:] if x.ndim == 4 else x.shape) < 1:
        raise ValueError(f"{name} must have C, H, W >= 1, got shape {x.shape}")
    return x


def as_gradient(grad_output, expected_shape):
    """``grad_output`` as a float array (:func:`result_dtype`) of exactly ``expected_shape``."""
    g = np.asarray(grad_output)
    if g.dtype.kind == "f" and g.shape == tuple(expected_shape):  # the usual case: as it is
        return g
    of_kind(g, "iuf", "grad_output must hold numbers")
    if g.shape != tuple(expected_shape):
        raise ValueError(f"grad_output must have the forward output's shape {tuple(expected_shape)}, "
                         f"got {g.shape}")
    return g.astype(result_dtype(g.dtype))


def as_shape(input_shape, check=None):
    """``input_shape`` as a tuple of ints, checked by ``check`` (default :func:`as_input`) like
    an input of that shape."""
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"input_shape must be a tuple of ints, got {input_shape!r}")
    shape = tuple(as_int(s, "input_shape", 0) for s in input_shape)
    (check or as_input)(np.empty(shape), "an input of input_shape")
    return shape


# --- dtypes ----------------------------------------------------------------------------------

FLOAT64 = np.dtype(np.float64)


def result_dtype(dtype):
    """The dtype of a mean or a gradient computed from values of NumPy dtype ``dtype``: a float
    dtype stays (float32 in, float32 out), integers give float64 (docs/semantics.md, "Dtypes at
    a glance")."""
    return dtype if dtype.kind == "f" else FLOAT64


def lowest(dtype):
    """The smallest value of ``dtype``: what a padded cell of max pooling is worth (it never wins
    over an input cell)."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# --- planes ----------------------------------------------------------------------------------

def planes(x):
    """``x`` (..., H, W) viewed as (P, H, W), ``P`` the product of the leading axes."""
    return x.reshape((-1,) + x.shape[-2:])


def flat_planes(a):
    """``a`` (P, ...) as (P, cells), also when P == 0."""
    return a.reshape(len(a), prod(a.shape[1:]))


# --- the settings of max pooling's backward pass and of average pooling ----------------------

def check_ties(ties):
    """``ties`` if it is one of :data:`TIES`, else a ``ValueError``."""
    if ties not in TIES:
        raise ValueError(f"ties must be one of {', '.join(map(repr, TIES))}, got {ties!r}")
    return ties


def max_backward_args(grad_output, x, pool_size, stride, padding, dilation, ceil_mode, ties):
    """The checked arguments of a max pooling backward pass: x (..., H, W), its two
    :class:`Axis`, and grad_output as a float array of shape (..., oh, ow)."""
    x = as_input(x)
    check_ties(ties)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation, ceil_mode)
    return x, rows, cols, as_gradient(grad_output, x.shape[:-2] + (rows.out, cols.out))


def counts_padding(padding, count_include_pad):
    """Do padded cells count in a window's divisor? Only numeric padding ever does."""
    return bool(count_include_pad) and not isinstance(padding, str)


@lru_cache(maxsize=1024)  # cached: every average pooling call asks for it
def window_counts(rows, cols, include_pad):
    """Cells per window: a number, or an (oh, ow) int array (read-only) when border windows
    hold fewer. ``include_pad``: count padded cells too."""
    d = rows.counts(include_pad)[:, None] * cols.counts(include_pad)[None, :]
    if (d == d.flat[0]).all():
        return int(d.flat[0])
    d.flags.writeable = False
    return d


def avg_plan(shape, pool_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Checked settings of an average pooling of planes ``shape[-2:]``: the two :class:`Axis` and
    the divisor of the window sums (``divisor_override``, or :func:`window_counts`)."""
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be True or False, got {count_include_pad!r}")
    rows, cols = plan(shape[-2:], pool_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if as_int(divisor_override, "divisor_override") == 0:
            raise ValueError("divisor_override must not be 0, got 0")
        return rows, cols, divisor_override
    return rows, cols, window_counts(rows, cols, counts_padding(padding, count_include_pad))


# --- adaptive pooling ------------------------------------------------------------------------

def bins(size, out):
    """``(start, stop)`` of each of ``out`` adaptive bins over an axis of ``size`` cells."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_bins(shape, output_size):
    """The row bins and column bins of an adaptive pooling of planes ``shape = (..., H, W)``."""
    oh, ow = as_pair(output_size, "output_size", 1)
    return bins(shape[-2], oh), bins(shape[-1], ow)
