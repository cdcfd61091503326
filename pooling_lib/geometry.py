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
import sys
from math import ceil, prod
from typing import NamedTuple

import numpy as np

from ._cache import cached

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

    def tap_range(self, starts, low, high):
        """For windows starting at ``starts``: the first and last tap ``k`` whose cell
        ``start + k * dilation`` lies in ``[low, high)`` (arrays like ``starts``; none when
        first > last). Computed, not searched: a pool of millions costs no more than a pool of 2."""
        first = np.maximum(0, -((starts - low) // self.dilation))     # ceil((low - start) / dilation)
        last = np.minimum(self.pool - 1, (high - 1 - starts) // self.dilation)
        return first, last

    def taps(self):
        """The taps ``k`` that fall inside the input in at least one window (a ``range``)."""
        first_start, last_start = -self.pad_before, (self.out - 1) * self.stride - self.pad_before
        # taps move left as windows move right: the last window reaches the input first
        first = max(0, -(last_start // self.dilation))
        last = min(self.pool - 1, (self.size - 1 - first_start) // self.dilation)
        return range(first, last + 1)

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

    def first_taps(self):
        """Each window's first tap inside the input, shape ``(out,)``."""
        return self.tap_range(self.starts(), 0, self.size)[0]

    def inside(self):
        """Does every tap of every window lie inside the input (no padding taps)?"""
        last_cell = (self.out - 1) * self.stride + self.dilation * (self.pool - 1)
        return self.pad_before == 0 and last_cell < self.size

    def tap_valid(self):
        """Boolean ``(out, pool)``: is tap ``k`` of window ``i`` inside the input? (im2col's view:
        an array as big as the unfolded windows.)"""
        cells = self.starts()[:, None] + np.arange(self.pool) * self.dilation
        return (cells >= 0) & (cells < self.size)

    def counts(self, include_pad):
        """Cells per window, shape ``(out,)``: inside ``[-pad_before, size + pad_after)``
        when ``include_pad``, else inside the input."""
        low, high = (-self.pad_before, self.size + self.pad_after) if include_pad else (0, self.size)
        first, last = self.tap_range(self.starts(), low, high)
        return np.maximum(0, last - first + 1)

    def empty_window(self):
        """The first window holding no input cell (only padding), or None."""
        # only windows starting in the left padding can miss the input; the further right one
        # starts, the sooner it reaches the input, unless the dilation is wider than the input
        # (then the taps can jump over it): check the first window, or all the left ones
        n = 1 if self.dilation <= self.size else min(self.out, -(-self.pad_before // self.stride))
        first, last = self.tap_range(np.arange(max(n, 1)) * self.stride - self.pad_before, 0, self.size)
        empty = np.flatnonzero(first > last)
        return int(empty[0]) if len(empty) else None


LARGEST = 2 ** 40  # settings and sizes above this are refused: no array could have so many cells


def as_int(value, name, minimum=None):
    """``value`` as a Python int, refusing bools, floats and strings with a ``TypeError`` and
    values beyond :data:`LARGEST` with a ``ValueError``; a 0-d integer array counts as its int."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if abs(int(value)) > LARGEST:
        raise ValueError(f"{name} must be at most 2**40 = {LARGEST} (no array could be that "
                         f"large), got {value!r}")
    return int(value)


def as_norm_type(value):
    """Lp pooling's ``p``: a real number > 0, or ``inf`` (the largest absolute value), as a
    float; bools, text and other objects are a ``TypeError``, 0, negatives and NaN a
    ``ValueError``. A 0-d float or int array counts as its number."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"norm_type must be a number > 0 or inf, got {value!r} ({type(value).__name__})")
    if not float(value) > 0:  # NaN fails this too
        raise ValueError(f"norm_type must be a number > 0 or inf, got {value!r}")
    return float(value)


def as_pair(value, name, minimum=None):
    """An int or an ``(h, w)`` pair as a tuple of two ints (each checked by :func:`as_int`)."""
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim > 0):
        if len(value) != 2 or np.ndim(value) != 1:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        try:
            return tuple(as_int(v, name, minimum) for v in value)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{error} in {name}={value!r}") from None
    return (as_int(value, name, minimum),) * 2


def as_bool(value, name):
    """``value`` if it is True or False (a NumPy bool too), else a ``TypeError``: ``"no"`` or 0
    are not taken for a yes or a no."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


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
        before = after = padding
        out = formula_size(size, pool, stride, padding, dilation, ceil_mode)
        if ceil_mode and (out - 1) * stride >= size + padding:
            out -= 1  # the ceil-mode rule: the last window must start inside the input or the left padding
    if out < 1:
        raise ValueError(
            f"output size must be >= 1, but an input of size {size} with pool_size={pool}, "
            f"stride={stride}, padding={padding!r}, dilation={dilation} gives {out}")
    ax = Axis(size, pool, stride, dilation, before, after, out)
    empty = ax.empty_window()
    if empty is not None:
        raise ValueError(
            f"window {empty} holds no input cell (only padding) for size {size}, "
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


def check_settings(pool_size, stride, padding, dilation, ceil_mode):
    """The settings of a pooling, checked without an input: pool, strides, paddings and
    dilations as pairs, and ``ceil_mode`` as a bool (what a layer checks when it is built)."""
    pool = as_pair(pool_size, "pool_size", 1)
    strides = pool if stride is None else as_pair(stride, "stride", 1)
    pads = check_padding(padding)
    dils = as_pair(dilation, "dilation", 1)
    if as_bool(ceil_mode, "ceil_mode") and isinstance(padding, str):
        raise ValueError(f"ceil_mode=True works with numeric padding only, got padding={padding!r}")
    for p, k in zip(pads, pool):
        if not isinstance(p, str) and p > k // 2:
            raise ValueError(f"padding must be at most half the pool size (pool // 2 = {k // 2}), "
                             f"got padding={p} with pool_size={k}")
    return pool, strides, pads, dils, bool(ceil_mode)


def make_plan(shape, pool_size, stride, padding, dilation, ceil_mode):
    """Check the settings and build the two :class:`Axis` of planes ``shape = (H, W)``."""
    pool, strides, pads, dils, ceil_mode = check_settings(pool_size, stride, padding, dilation,
                                                          ceil_mode)
    return tuple(axis(shape[i], pool[i], strides[i], pads[i], dils[i], ceil_mode) for i in (0, 1))


PLANS = {}  # settings already checked, keyed with their types (so 2.0 or True never pass for 2)


def _typed(value):
    if isinstance(value, np.ndarray):
        return type(value), value.dtype, value.shape, value.tobytes()
    if isinstance(value, (tuple, list)):
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


def as_array(x, name):
    """``x`` as a NumPy array, without losing anything on the way: a masked array with masked
    cells, or an object that does not convert (a tensor that needs gradients, ragged lists), is
    refused with a ``TypeError`` naming ``name``."""
    ma = sys.modules.get("numpy.ma")  # only loaded once somebody made a masked array
    if ma is not None and isinstance(x, ma.MaskedArray):
        if ma.is_masked(x):
            raise TypeError(f"{name} is a masked array with masked cells, and pooling would "
                            f"ignore the mask: pass {name}.filled(value) or {name}.data")
        x = x.data
    try:
        x = np.asarray(x)
    except Exception as error:  # whatever the object raises, say which argument it was
        raise TypeError(f"{name} must be a numeric array, could not convert it "
                        f"({type(x).__name__}): {error}") from None
    if not x.dtype.isnative:  # big-endian data on this machine: the same values, in native order
        x = x.astype(x.dtype.newbyteorder("="))
    return x


def as_array_of_rank(x, name, ranks, shapes):
    """``x`` as a NumPy array of ints or floats with a number of axes in ``ranks`` (a
    ``TypeError`` / ``ValueError`` otherwise); ``shapes`` describes them, e.g. :data:`RANKS`."""
    x = as_array(x, name)
    if x.dtype.kind in "iuf" and x.ndim in ranks:  # the usual case first: no error to choose
        return x
    of_kind(x, "iuf", f"{name} must hold ints or floats")
    raise ValueError(f"{name} must have shape {shapes}, got shape {x.shape} ({x.ndim} axes)")


def check_planes(shape, name):
    """Refuse a ``shape`` of 2 to 4 axes whose planes are empty (``N == 0`` is allowed)."""
    if min(shape[1:] if len(shape) == 4 else shape) < 1:
        raise ValueError(f"{name} must have C, H, W >= 1, got shape {shape}")


def as_input(x, name="x"):
    """``x`` as a numeric array of 2, 3 or 4 axes with non-empty planes (``N == 0`` allowed)."""
    x = as_array_of_rank(x, name, (2, 3, 4), RANKS)
    check_planes(x.shape, name)
    return x


def as_gradient(grad_output, expected_shape):
    """``grad_output`` as a float array (:func:`result_dtype`) of exactly ``expected_shape``."""
    g = as_array(grad_output, "grad_output")
    if g.dtype.kind == "f" and g.shape == tuple(expected_shape):  # the usual case: as it is
        return g
    of_kind(g, "iuf", "grad_output must hold numbers")
    if g.shape != tuple(expected_shape):
        raise ValueError(f"grad_output must have the forward output's shape {tuple(expected_shape)}, "
                         f"got {g.shape}")
    return g.astype(result_dtype(g.dtype))


def as_shape(input_shape, ranks=(2, 3, 4), shapes=RANKS):
    """``input_shape`` as a tuple of ints with a number of axes in ``ranks`` and non-empty planes,
    checked like an input of that shape, without making one; its float64 array must fit in
    :data:`MAX_RESULT_BYTES`."""
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"input_shape must be a tuple of ints, got {input_shape!r}")
    shape = tuple(as_int(s, "input_shape", 0) for s in input_shape)
    if len(shape) not in ranks:
        raise ValueError(f"an input of input_shape must have shape {shapes}, got shape {shape} "
                         f"({len(shape)} axes)")
    if shapes is RANKS:  # 1-D shapes are checked as planes of height 1, by the 2-D function
        check_planes(shape, "an input of input_shape")
    check_result(shape, "input_shape")
    return shape


MAX_RESULT_BYTES = 8 << 30  # results larger than this (8 GiB) are refused before any work


def check_result(shape, name, itemsize=8):
    """Refuse a result of ``shape`` (``itemsize`` bytes a cell) over :data:`MAX_RESULT_BYTES`,
    naming the setting ``name`` that asks for it."""
    size = prod(shape) * itemsize
    if size > MAX_RESULT_BYTES:
        raise ValueError(f"{name} asks for a result of shape {tuple(shape)}, {size / 2**30:.3g} GiB: "
                         f"more than the {MAX_RESULT_BYTES / 2**30:g} GiB a result may take")
    return shape


# --- dtypes ----------------------------------------------------------------------------------

FLOAT64 = np.dtype(np.float64)


def result_dtype(dtype):
    """The dtype of a mean or a gradient computed from values of NumPy dtype ``dtype``: a float
    dtype stays (float32 in, float32 out), integers give float64 (docs/semantics.md, "Dtypes at
    a glance")."""
    return dtype if dtype.kind == "f" else FLOAT64


def sum_dtype(dtype):
    """The dtype window sums are added up in, for results of ``dtype``: float16 adds up in float32
    (as PyTorch does on the CPU: a 3 x 3 window of 30000s would overflow float16's 65504), then
    the mean is rounded back to float16."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


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


@cached(4 << 20)  # cached: every average pooling call asks for it
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
    as_bool(count_include_pad, "count_include_pad")
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


def bin_edges(size, out):
    """The :func:`bins` as two int64 arrays ``(starts, stops)`` of shape ``(out,)``."""
    i = np.arange(out, dtype=np.int64)
    return i * size // out, -(-(i + 1) * size // out)


def adaptive_size(shape, output_size, itemsize=8):
    """The checked ``(oh, ow)`` of an adaptive pooling of planes ``shape = (..., H, W)``; the
    result (``itemsize`` bytes a cell) must fit in :data:`MAX_RESULT_BYTES`."""
    oh, ow = as_pair(output_size, "output_size", 1)
    check_result(shape[:-2] + (oh, ow), "output_size", itemsize)
    return oh, ow


def adaptive_bins(shape, output_size):
    """The row bins and column bins of an adaptive pooling of planes ``shape = (..., H, W)``."""
    oh, ow = adaptive_size(shape, output_size)
    return bins(shape[-2], oh), bins(shape[-1], ow)
