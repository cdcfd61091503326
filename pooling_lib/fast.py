"""Vectorized max and average pooling, forward and backward (same signatures as ``reference``).

The trick: instead of cutting out every window, loop over the ``kh * kw`` taps of a window.
Tap ``(a, b)`` of all windows at once is one strided slice of the input, so a pool is
``kh * kw`` whole-array operations, whatever the input size. Max pooling keeps, next to the
running maximum, the number of the winning tap (a small integer per output cell); the
backward pass routes each gradient to its tap by the same strided slices, adding up where
windows overlap.

Shapes: ``x`` is ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; outputs keep the leading axes.
Internally every function works on planes ``(P, H, W)`` with ``P`` the product of leading axes.
"""
import math
from functools import lru_cache
from itertools import product
from typing import NamedTuple

import numpy as np

from .geometry import as_gradient, as_input, as_int, as_shape, plan

TIES = ("first", "last", "split", "all")
CHUNK_BYTES = 1 << 20  # planes are processed in chunks of about this many input bytes (L2)
SMALL = 4096  # inputs of at most this many cells gather their windows in one go


# --- shared plumbing -------------------------------------------------------------------------

def taps(rows, cols):
    """Every tap ``k = a * kw + b`` of a window with its (output slice, input slice) pairs."""
    for k, (a, b) in enumerate(product(range(rows.pool), range(cols.pool))):
        (oi, ii), (oj, ij) = rows.input_slice(a), cols.input_slice(b)
        yield k, (slice(None), oi, oj), (slice(None), ii, ij)


@lru_cache(maxsize=1024)
def axis_taps(ax, axis):
    """Taps of one axis as ``(k, output index, input index)`` over planes (P, A, B), where
    ``axis`` (1 or 2) is the pooled axis; taps that never fall inside the input are left out."""
    pad = (slice(None),) * axis
    return tuple((k, pad + (o,), pad + (i,)) for k, (o, i) in
                 ((k, ax.input_slice(k)) for k in range(ax.pool)) if o.stop > o.start)


@lru_cache(maxsize=1024)
def first_tap(ax, axis):
    """Each window's first tap inside the input, shaped to broadcast along ``axis``."""
    first = ax.tap_valid().argmax(axis=1).astype(tap_dtype(ax.pool))
    first.flags.writeable = False
    return first[:, None] if axis == 1 else first


def first_valid_tap(rows, cols):
    """``(oh, ow)`` tap number of each window's first cell inside the input (row-major)."""
    return first_tap(rows, 1).astype(np.intp) * cols.pool + first_tap(cols, 2)


def tap_dtype(pool):
    return np.uint8 if pool <= 256 else np.uint16


def lowest(dtype):
    """The smallest value of ``dtype``: what a padded cell of max pooling is worth."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def check_ties(ties):
    if ties not in TIES:
        raise ValueError(f"ties must be one of {', '.join(map(repr, TIES))}, got {ties!r}")
    return ties


def grad_dtype(g):
    return g.dtype if g.dtype.kind == "f" else np.float64


def chunks(planes):
    """Slices over the first axis of planes (P, A, B), each about ``CHUNK_BYTES``, so that the
    work on a chunk stays in cache."""
    step = max(1, CHUNK_BYTES // (planes.itemsize * planes.shape[1] * planes.shape[2]))
    return [slice(s, s + step) for s in range(0, len(planes), step)]


def covers_all(step, ax, axis):
    """Does this ``(k, output index, input index)`` tap of :func:`axis_taps` reach every window?"""
    return step[1][axis] == slice(0, ax.out)


def shortened(shape, axis, length):
    return shape[:axis] + (length,) + shape[axis + 1:]


# --- max pooling -----------------------------------------------------------------------------
# A k x k maximum is a maximum over rows of maxima along columns, and the winner of a window
# is (first winning row, first winning column in that row): so max pooling is two 1-D poolings,
# 2k array operations instead of k * k, and the backward pass is two 1-D routings.

def search_1d(x, ax, axis, ties="first"):
    """Maxima and winning taps along one axis. x: (P, A, B) -> out, arg with ``axis`` of length
    ``ax.out``; ``arg`` holds tap numbers (first maximum on ties, "last": the last; the last NaN)."""
    shape = shortened(x.shape, axis, ax.out)
    steps = axis_taps(ax, axis)
    if steps[0][0] == 0 and covers_all(steps[0], ax, axis):  # tap 0 always inside
        out, arg = x[steps[0][2]].copy(), np.zeros(shape, tap_dtype(ax.pool))
        steps = steps[1:]
    else:
        out, arg = np.full(shape, lowest(x.dtype), x.dtype), np.empty(shape, tap_dtype(ax.pool))
        arg[...] = first_tap(ax, axis)
    wins = np.greater_equal if ties == "last" else np.greater
    for k, o, i in steps:
        # taps come in increasing order, so "newest winner" is a running maximum of k * won
        np.maximum(arg[o], wins(x[i], out[o]).view(np.uint8) * arg.dtype.type(k), out=arg[o])
        np.maximum(out[o], x[i], out=out[o])
    if x.dtype.kind == "f" and np.isnan(out).any():
        for k, o, i in axis_taps(ax, axis):
            np.maximum(arg[o], np.isnan(x[i]).view(np.uint8) * arg.dtype.type(k), out=arg[o])
    return out, arg


@lru_cache(maxsize=1024)
def scatter_taps(ax, axis):
    """How the taps of one axis write back into an input of ``ax.size`` cells along ``axis``:
    ``(unwritten, steps)``. A tap whose cells no earlier tap touched is assigned (``fresh``),
    the others add; ``unwritten`` indexes the cells no fresh tap writes, to be zeroed first
    (None when there are none). steps: ``(fresh, k, output index, input index)``."""
    written, seen, steps = np.zeros(ax.size, bool), np.zeros(ax.size, bool), []
    for k, o, i in axis_taps(ax, axis):
        cells = np.arange(ax.size)[i[axis]]
        fresh = not seen[cells].any()
        written[cells] |= fresh
        seen[cells] = True
        steps.append((fresh, k, o, i))
    unwritten = np.flatnonzero(~written)
    unwritten.flags.writeable = False
    return ((slice(None),) * axis + (unwritten,) if len(unwritten) else None), tuple(steps)


def scatter_1d(parts, ax, axis, shape, dtype, out=None):
    """Write back along one axis, into ``out`` or a new array of ``shape``, what each tap
    sends: ``parts(k, o)``, the values of tap ``k`` for output index ``o``; where windows
    overlap, the values add up."""
    gi = np.empty(shape, dtype) if out is None else out
    unwritten, steps = scatter_taps(ax, axis)
    if unwritten is not None:
        gi[unwritten] = 0
    for fresh, k, o, i in steps:
        if fresh:
            gi[i] = parts(k, o)
        else:
            gi[i] += parts(k, o)
    return gi


def route_1d(grad, arg, ax, axis, length, out=None):
    """Send gradients back along one axis to the winning taps; overlapping windows add up.
    grad, arg: (P, A, B) with ``axis`` of length ``ax.out`` -> that axis of ``length``
    (written into ``out`` if given)."""
    pick = (lambda m, g: g * m) if np.isfinite(grad).all() else (lambda m, g: np.where(m, g, 0))
    return scatter_1d(lambda k, o: pick(arg[o] == k, grad[o]), ax, axis,
                      shortened(grad.shape, axis, length), grad.dtype, out)


class Winners(NamedTuple):
    """Where each window's maximum was found. Small inputs: ``cells`` (P, oh, ow), indices into
    the whole flattened input. Others, the separable form: window (i, j) won at tap row
    ``row_arg[p, i, j]`` and, in that input row ``h``, at tap column ``col_arg[p, h, j]``
    (shapes (P, oh, ow) and (P, H, ow))."""
    cells: np.ndarray = None
    row_arg: np.ndarray = None
    col_arg: np.ndarray = None


class Table(NamedTuple):
    """Every window of a small input without padding taps, as indices into the flat input."""
    index: np.ndarray     # (P * oh * ow, kh * kw): tap k of window w, row-major taps
    flat: np.ndarray      # the same, flattened
    starts: np.ndarray    # (P * oh * ow,): where each window's row starts in ``flat``


@lru_cache(maxsize=256)
def window_table(rows, cols, n_planes):
    """The :class:`Table` of ``n_planes`` planes, or None when some taps fall in the padding."""
    if not (rows.tap_valid().all() and cols.tap_valid().all()):
        return None
    h = rows.starts()[:, None] + np.arange(rows.pool) * rows.dilation  # (oh, kh)
    w = cols.starts()[:, None] + np.arange(cols.pool) * cols.dilation  # (ow, kw)
    index = h[:, None, :, None] * cols.size + w[None, :, None, :]      # (oh, ow, kh, kw)
    index = np.arange(n_planes)[:, None, None, None, None] * (rows.size * cols.size) + index
    index = index.reshape(-1, rows.pool * cols.pool)
    table = Table(index, index.ravel(), np.arange(len(index)) * index.shape[1])
    for array in table:
        array.flags.writeable = False
    return table


@lru_cache(maxsize=256)
def mean_weights(taps, divisor, dtype):
    """``taps`` times ``1 / divisor``: a window's mean is ``window.dot(mean_weights)``. In ``dtype``
    (float32 stays float32, no round trip through float64), at least float32 (float16 sums)."""
    weights = np.full(taps, 1 / divisor, np.promote_types(dtype, np.float32))
    weights.flags.writeable = False
    return weights


def last_nan(block, arg):
    """Row-wise: the last NaN of block (M, K) where a row has one, else ``arg``."""
    nan = np.isnan(block)
    return np.where(nan.any(axis=1), block.shape[1] - 1 - nan[:, ::-1].argmax(axis=1), arg)


def search_small(x, table, ties):
    """Max pooling of a small input by gathering all windows at once.
    x: (P, H, W), table: from :func:`window_table` -> out (P * L,), cells (P * L,)."""
    windows = x.ravel()[table.index]  # (P * L, K)
    if ties == "last":
        arg = windows.shape[1] - 1 - windows[:, ::-1].argmax(axis=1)
    else:
        arg = windows.argmax(axis=1)
    at = table.starts + arg
    out = windows.ravel()[at]
    if x.dtype.kind == "f":
        square = out.dot(out)  # NaN exactly when out holds a NaN (squares cannot cancel)
        if square != square:
            at = table.starts + last_nan(windows, arg)
    return out, table.flat[at]


def max_search(x, rows, cols, ties="first"):
    """Maxima of all windows and where they won. x: (..., H, W) -> out (..., oh, ow) of x's
    dtype and :class:`Winners`. Ties: first maximum in row-major order ("last": the last);
    a NaN wins, the last NaN over earlier ones."""
    shape = x.shape[:-2] + (rows.out, cols.out)
    P = x.size // (rows.size * cols.size)
    table = window_table(rows, cols, P) if x.size <= SMALL and ties in ("first", "last") else None
    if table is not None:
        out, cells = search_small(x, table, ties)
        return out.reshape(shape), Winners(cells=cells)
    x = planes(x)
    out = np.empty((P, rows.out, cols.out), x.dtype)
    row_arg = np.empty(out.shape, tap_dtype(rows.pool))
    col_arg = np.empty((P, rows.size, cols.out), tap_dtype(cols.pool))
    for part in chunks(x):
        along_rows, col_arg[part] = search_1d(x[part], cols, 2, ties)
        out[part], row_arg[part] = search_1d(along_rows, rows, 1, ties)
    return out.reshape(shape), Winners(row_arg=row_arg, col_arg=col_arg)


def overlaps(ax):
    """Do two windows of this axis share a cell?"""
    return ax.out > 1 and ax.stride < ax.dilation * (ax.pool - 1) + 1


def windows_overlap(rows, cols):
    """Can a cell belong to two windows?"""
    return overlaps(rows) or overlaps(cols)


def sparse_overlap(ax):
    """Do the windows of this axis overlap, with a stride of 2 or more?"""
    return ax.stride >= 2 and overlaps(ax)


def max_route(grad, winners, rows, cols, in_shape):
    """Gradient of max pooling from the :class:`Winners` of :func:`max_search`.
    grad: (..., oh, ow) -> (*in_shape) = (..., H, W); overlapping windows add up."""
    dtype = grad_dtype(grad)
    if winners.cells is None and dtype == np.float64 and sparse_overlap(rows) and sparse_overlap(cols):
        # overlapping windows far apart: scattering into the float64 result by flat index
        # (bincount adds up repeats) measured faster than routing tap by tap
        P = len(winners.row_arg)
        cells = flat_indices(winners, rows, cols) + (np.arange(P) * (rows.size * cols.size))[:, None, None]
        winners = Winners(cells=cells.reshape(-1))
    if winners.cells is not None:
        if windows_overlap(rows, cols):  # bincount adds up cells that won several windows
            gi = np.bincount(winners.cells, grad.ravel(), math.prod(in_shape)).astype(dtype, copy=False)
        else:
            gi = np.zeros(math.prod(in_shape), dtype)
            gi[winners.cells] = grad.ravel()
        return gi.reshape(in_shape)
    grad, gi = planes(grad), np.empty((len(winners.row_arg), rows.size, cols.size), dtype)
    for part in chunks(gi):
        along_rows = route_1d(grad[part].astype(dtype, copy=False), winners.row_arg[part],
                              rows, 1, rows.size)
        route_1d(along_rows, winners.col_arg[part], cols, 2, cols.size, out=gi[part])
    return gi.reshape(in_shape)


def tied(v, best):
    """Cells equal to their window's maximum (NaN counts as equal to NaN)."""
    same = v == best
    if v.dtype.kind == "f":
        same |= np.isnan(v) & np.isnan(best)
    return same


def max_share(grad, x, out, rows, cols, ties):
    """Backward for ``ties="split"`` (1/k to each of k tied cells) and ``"all"`` (each gets all).
    grad, out: (..., oh, ow), x: (..., H, W) -> (..., H, W)."""
    grad, xp, out = planes(grad), planes(x), planes(out)
    if ties == "split":
        count = np.zeros(out.shape, np.int64)
        for k, o, i in taps(rows, cols):
            count[o] += tied(xp[i], out[o])
        grad = grad / count
    gi = np.zeros(xp.shape, grad_dtype(grad))
    for k, o, i in taps(rows, cols):
        gi[i] += np.where(tied(xp[i], out[o]), grad[o], 0)
    return gi.reshape(x.shape)


def flat_indices(winners, rows, cols):
    """Winning cells as int64 flat indices ``h * W + w`` into each (H, W) plane: (P, oh, ow)
    (or (P * oh * ow,) for small inputs)."""
    if winners.cells is not None:
        return winners.cells % (rows.size * cols.size)
    h = rows.starts()[:, None] + winners.row_arg.astype(np.int64) * rows.dilation
    b = np.take_along_axis(winners.col_arg, h, axis=1).astype(np.int64)
    return h * cols.size + cols.starts() + b * cols.dilation


def planes(x):
    """``x`` (..., H, W) viewed as (P, H, W)."""
    return x.reshape((-1,) + x.shape[-2:])


def flat_planes(a):
    """``a`` (P, ...) as (P, cells), also when P == 0."""
    return a.reshape(len(a), math.prod(a.shape[1:]))


def max_pool2d(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling. x: (..., H, W) -> (..., oh, ow), plus int64 indices if ``return_indices``."""
    x = as_input(x)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation, ceil_mode)
    out, winners = max_search(x, rows, cols)
    if return_indices:
        return out, flat_indices(winners, rows, cols).reshape(out.shape)
    return out


def max_backward_setup(grad_output, x, pool_size, stride, padding, dilation, ceil_mode, ties):
    """The checked arguments of a max pooling backward: x, rows, cols, grad_output."""
    x = as_input(x)
    check_ties(ties)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation, ceil_mode)
    return x, rows, cols, as_gradient(grad_output, x.shape[:-2] + (rows.out, cols.out))


def max_pool2d_backward(grad_output, x, pool_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, ties="first"):
    """Gradient of max pooling. grad_output: (..., oh, ow), x: (..., H, W) -> (..., H, W)."""
    x, rows, cols, g = max_backward_setup(grad_output, x, pool_size, stride, padding, dilation,
                                          ceil_mode, ties)
    out, winners = max_search(x, rows, cols, ties)
    if ties in ("split", "all"):
        return max_share(g, x, out, rows, cols, ties)
    return max_route(g, winners, rows, cols, x.shape)


# --- average pooling -------------------------------------------------------------------------

def sum_1d(x, ax, axis, dtype, out=None):
    """Window sums along one axis (padding adds nothing). x: (P, A, B) -> axis of ``ax.out``
    (written into ``out`` if given)."""
    steps = axis_taps(ax, axis)
    total = np.empty(shortened(x.shape, axis, ax.out), dtype) if out is None else out
    if len(steps) > 1 and covers_all(steps[0], ax, axis) and covers_all(steps[1], ax, axis):
        # the first two taps cover every window: start from their sum (same rounding)
        np.add(x[steps[0][2]], x[steps[1][2]], out=total, dtype=dtype)
        steps = steps[2:]
    elif covers_all(steps[0], ax, axis):
        total[...], steps = x[steps[0][2]], steps[1:]
    else:
        total[...] = 0
    for k, o, i in steps:
        total[o] += x[i]
    return total


def spread_1d(grad, ax, axis, length, out=None):
    """Give every cell of each window its window's gradient along one axis (adding up)."""
    return scatter_1d(lambda k, o: grad[o], ax, axis, shortened(grad.shape, axis, length),
                      grad.dtype, out)


@lru_cache(maxsize=1024)
def window_counts(rows, cols, include_pad):
    """Cells per window: a number, or an (oh, ow) array when border windows hold fewer."""
    d = rows.counts(include_pad)[:, None] * cols.counts(include_pad)[None, :]
    if (d == d.flat[0]).all():
        return int(d.flat[0])
    d.flags.writeable = False
    return d


def avg_setup(shape, pool_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Checked settings of an average pooling of planes ``shape[-2:]``: rows, cols, divisor."""
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be True or False, got {count_include_pad!r}")
    rows, cols = plan(shape[-2:], pool_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if as_int(divisor_override, "divisor_override") == 0:
            raise ValueError("divisor_override must not be 0, got 0")
        return rows, cols, divisor_override
    include_pad = bool(count_include_pad) and not isinstance(padding, str)
    return rows, cols, window_counts(rows, cols, include_pad)


def avg_forward(x, rows, cols, divisor):
    """Window means. x: (..., H, W) -> (..., oh, ow), float (integer input: float64)."""
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    shape = x.shape[:-2] + (rows.out, cols.out)
    table = window_table(rows, cols, x.size // (rows.size * cols.size)) if x.size <= SMALL else None
    if table is not None:  # no padding taps: one divisor for all
        weights = mean_weights(table.index.shape[1], divisor, dtype)
        return x.ravel()[table.index].dot(weights).astype(dtype, copy=False).reshape(shape)
    x = planes(x)
    total = np.empty((len(x), rows.out, cols.out), dtype)
    for part in chunks(x):
        sum_1d(sum_1d(x[part], cols, 2, dtype), rows, 1, dtype, out=total[part])
    total /= divisor
    return total.reshape(shape)


def avg_backward(grad, rows, cols, divisor, in_shape):
    """Gradient of average pooling: grad (..., oh, ow) -> (*in_shape) = (..., H, W)."""
    dtype = grad_dtype(grad)
    table = window_table(rows, cols, grad.size // (rows.out * cols.out)) if grad.size <= SMALL else None
    if table is not None:
        share = grad.reshape(-1, 1) * mean_weights(table.index.shape[1], divisor, dtype)  # (windows, taps)
        if windows_overlap(rows, cols):
            gi = np.bincount(table.flat, share.reshape(-1), math.prod(in_shape))
        else:
            gi = np.zeros(math.prod(in_shape), dtype)
            gi[table.index] = share
        return gi.astype(dtype, copy=False).reshape(in_shape)
    g = (grad / divisor).astype(dtype, copy=False)
    g = planes(g)
    gi = np.empty((len(g), rows.size, cols.size), dtype)
    for part in chunks(gi):
        # columns first: the strided column pass works on the smaller array
        spread_1d(spread_1d(g[part], cols, 2, cols.size), rows, 1, rows.size, out=gi[part])
    return gi.reshape(in_shape)


def avg_pool2d(x, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling. x: (..., H, W) -> (..., oh, ow); integer input gives float64."""
    x = as_input(x)
    rows, cols, divisor = avg_setup(x.shape, pool_size, stride, padding, ceil_mode,
                                    count_include_pad, divisor_override)
    return avg_forward(x, rows, cols, divisor)


def avg_pool2d_backward(grad_output, input_shape, pool_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Gradient of average pooling. grad_output: (..., oh, ow) -> (*input_shape)."""
    shape = as_shape(input_shape)
    rows, cols, divisor = avg_setup(shape, pool_size, stride, padding, ceil_mode,
                                    count_include_pad, divisor_override)
    g = as_gradient(grad_output, shape[:-2] + (rows.out, cols.out))
    return avg_backward(g, rows, cols, divisor, shape)
