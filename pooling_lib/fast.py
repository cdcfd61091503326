"""Vectorized max and average pooling, forward and backward (same signatures as ``reference``).

The trick: instead of cutting out every window, loop over the ``kh * kw`` taps of a window.
Tap ``(a, b)`` of all windows at once is one strided slice of the input, so a pool is
``kh * kw`` whole-array operations, whatever the input size. Max pooling keeps, next to the
running maximum, the number of the winning tap (a small integer per output cell); the
backward pass routes each gradient to its tap by the same strided slices, adding up where
windows overlap.

Both passes go one axis at a time: a ``kh x kw`` maximum is a maximum of ``kw`` neighbours
along each row, then of ``kh`` of those down each column (``kh + kw`` slices instead of
``kh * kw``), and a window sum is a sum along the rows, then down the columns. What only
saves time (cached index tables, gathering tiny inputs in one go, working through the planes
in cache-sized chunks) lives in ``pooling_lib._engine``; the rules on settings, shapes and
dtypes live in ``pooling_lib.geometry``.

Shapes: ``x`` is ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; outputs keep the leading axes.
Internally every function works on planes ``(P, H, W)`` with ``P`` the product of leading axes.
"""
from itertools import product

import numpy as np

from . import _engine
from ._engine import Winners, shortened
from .geometry import TIES  # noqa: F401  (the policies of ``ties``, also named here)
from .geometry import (as_bool, as_gradient, as_input, as_shape, avg_plan, max_backward_args, plan, planes,
                       result_dtype, sum_dtype)


# --- taps ------------------------------------------------------------------------------------

def taps(rows, cols):
    """Every tap ``k = a * kw + b`` of a window with its (output slice, input slice) pairs:
    ``x[i]`` is tap ``(a, b)`` of the windows ``out[o]``, one strided slice each."""
    for k, (a, b) in enumerate(product(range(rows.pool), range(cols.pool))):
        (oi, ii), (oj, ij) = rows.input_slice(a), cols.input_slice(b)
        yield k, (slice(None), oi, oj), (slice(None), ii, ij)


# --- max pooling -----------------------------------------------------------------------------
# A k x k maximum is a maximum over rows of maxima along columns, and the winner of a window
# is (first winning row, first winning column in that row): so max pooling is two 1-D poolings,
# 2k array operations instead of k * k, and the backward pass is two 1-D routings.

def search_1d(x, ax, axis, ties="first"):
    """Maxima and winning taps along one axis. x: (P, A, B) -> out, arg with ``axis`` of length
    ``ax.out``; ``arg`` holds tap numbers (first maximum on ties, "last": the last; the last NaN)."""
    out, arg, steps = _engine.search_start(x, ax, axis)  # from tap 0, or below every value
    beats = np.greater_equal if ties == "last" else np.greater  # on a tie, does the new tap win?
    won, marks = _engine.scratch(out.shape, bool), _engine.scratch(arg.shape, arg.dtype)
    for k, o, i in steps:  # tap k: the cells x[i] of the windows out[o]
        beats(x[i], out[o], out=won[o])
        _engine.mark_winners(arg[o], won[o], k, marks[o])  # arg = k where tap k beats the max
        np.maximum(out[o], x[i], out=out[o])                # the running maximum
    _engine.nan_winners(x, out, arg, ax, axis)  # a NaN beats everything: the last NaN wins
    _engine.signed_zeros(x, out, arg, ax, axis)  # a maximum of 0 takes its winner's sign
    return out, arg


def max_search(x, rows, cols, ties="first"):
    """Maxima of all windows and where they won. x: (..., H, W) -> out (..., oh, ow) of x's
    dtype and :class:`~pooling_lib._engine.Winners`. Ties: first maximum in row-major order
    ("last": the last); a NaN wins, the last NaN over earlier ones."""
    gathered = _engine.gather_max(x, rows, cols, ties)  # tiny inputs: all windows in one gather
    return gathered if gathered is not None else separable_max(x, rows, cols, ties)


def separable_max(x, rows, cols, ties):
    """:func:`max_search` as two 1-D searches: along the rows, then down the columns.
    x: (..., H, W) -> out (..., oh, ow), Winners with row_arg (P, oh, ow), col_arg (P, H, ow)."""
    xp = planes(x)
    out = np.empty((len(xp), rows.out, cols.out), x.dtype)
    row_arg = np.empty(out.shape, _engine.tap_dtype(rows.pool))
    col_arg = np.empty((len(xp), rows.size, cols.out), _engine.tap_dtype(cols.pool))
    along = np.empty(col_arg.shape, x.dtype)  # the maxima along each row: (P, H, ow)

    def along_rows(i):
        along[i], col_arg[i] = search_1d(xp[i], cols, 2, ties)

    def down_columns(i):
        out[i], row_arg[i] = search_1d(along[i], rows, 1, ties)

    _engine.separable(xp, (along_rows, 1, rows.size), (down_columns, 2, cols.out))
    return out.reshape(x.shape[:-2] + out.shape[1:]), Winners(row_arg=row_arg, col_arg=col_arg)


def scatter_1d(parts, ax, axis, shape, dtype, out=None):
    """Write back along one axis, into ``out`` or a new array of ``shape``, what each tap
    sends: ``parts(k, o)``, the values of tap ``k`` for output index ``o``; where windows
    overlap, the values add up."""
    gi = np.empty(shape, dtype) if out is None else out
    unwritten, steps = _engine.scatter_taps(ax, axis)
    if unwritten is not None:
        gi[unwritten] = 0  # cells that no tap writes first start from 0
    for fresh, k, o, i in steps:
        if fresh:  # no earlier tap wrote these cells
            gi[i] = parts(k, o)
        else:      # some did: windows overlap here, their gradients add up
            gi[i] += parts(k, o)
    return gi


def route_1d(grad, arg, ax, axis, length, out=None):
    """Send gradients back along one axis to the winning taps; overlapping windows add up.
    grad, arg: (P, A, B) with ``axis`` of length ``ax.out`` -> that axis of ``length``
    (written into ``out`` if given)."""
    keep = _engine.keep_where(grad)  # keep(won, g, into): g where won, else 0
    won, share = _engine.scratch(grad.shape, bool), _engine.scratch(grad.shape, grad.dtype)

    def parts(k, o):
        np.equal(arg[o], k, out=won[o])
        return keep(won[o], grad[o], share[o])

    return scatter_1d(parts, ax, axis, shortened(grad.shape, axis, length), grad.dtype, out)


def max_route(grad, winners, rows, cols, in_shape):
    """Gradient of max pooling from the winners of :func:`max_search`.
    grad: (..., oh, ow) -> (*in_shape) = (..., H, W); overlapping windows add up."""
    by_cell = _engine.scatter_by_cell(grad, winners, rows, cols, in_shape)  # by flat index
    return by_cell if by_cell is not None else separable_route(grad, winners, rows, cols, in_shape)


def separable_route(grad, winners, rows, cols, in_shape):
    """:func:`max_route` as two 1-D routings: back down the columns, then along the rows.
    grad: (..., oh, ow), winners with row_arg and col_arg -> (*in_shape) = (..., H, W)."""
    dtype = result_dtype(grad.dtype)
    grad, gi = planes(grad), np.empty((len(winners.row_arg), rows.size, cols.size), dtype)
    along = np.empty(winners.col_arg.shape, dtype)  # back up the columns: (P, H, ow)

    def up_columns(i):
        route_1d(grad[i].astype(dtype, copy=False), winners.row_arg[i], rows, 1, rows.size,
                 out=along[i])

    def along_rows(i):
        route_1d(along[i], winners.col_arg[i], cols, 2, cols.size, out=gi[i])

    _engine.separable(gi, (up_columns, 2, cols.out), (along_rows, 1, rows.size))
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
    dtype = result_dtype(grad.dtype)  # the count divides in the gradient's own dtype
    if ties == "split":
        count = np.zeros(out.shape, dtype)
        for k, o, i in taps(rows, cols):
            count[o] += tied(xp[i], out[o])
        grad = grad.astype(dtype) / count
    gi = np.zeros(xp.shape, dtype)
    for k, o, i in taps(rows, cols):
        gi[i] += np.where(tied(xp[i], out[o]), grad[o], 0)
    return gi.reshape(x.shape)


def max_pool2d(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling. x: (..., H, W) -> (..., oh, ow), plus int64 indices if ``return_indices``."""
    x = as_input(x)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation, ceil_mode)
    out, winners = max_search(x, rows, cols)
    if as_bool(return_indices, "return_indices"):  # flat indices h * W + w of the winners
        return out, _engine.flat_indices(winners, rows, cols).reshape(out.shape)
    return out


def max_pool2d_backward(grad_output, x, pool_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, ties="first"):
    """Gradient of max pooling. grad_output: (..., oh, ow), x: (..., H, W) -> (..., H, W)."""
    x, rows, cols, g = max_backward_args(grad_output, x, pool_size, stride, padding, dilation,
                                         ceil_mode, ties)
    out, winners = max_search(x, rows, cols, ties)
    if ties in ("split", "all"):
        return max_share(g, x, out, rows, cols, ties)
    return max_route(g, winners, rows, cols, x.shape)


# --- average pooling -------------------------------------------------------------------------

def sum_1d(x, ax, axis, dtype, out=None):
    """Window sums along one axis (padding adds nothing). x: (P, A, B) -> axis of ``ax.out``
    in ``dtype`` (written into ``out`` if given)."""
    total, steps = _engine.sum_start(x, ax, axis, dtype, out)  # the first taps, or zeros
    for k, o, i in steps:  # tap k: the cells x[i] of the windows total[o]
        total[o] += x[i]
    return total


def spread_1d(grad, ax, axis, length, out=None):
    """Give every cell of each window its window's gradient along one axis (adding up).
    grad: (P, A, B) with ``axis`` of length ``ax.out`` -> that axis of ``length``."""
    return scatter_1d(lambda k, o: grad[o], ax, axis, shortened(grad.shape, axis, length),
                      grad.dtype, out)


def avg_forward(x, rows, cols, divisor):
    """Window means. x: (..., H, W) -> (..., oh, ow), float (integer input: float64).
    ``divisor``: a number, or (oh, ow), from :func:`~pooling_lib.geometry.avg_plan`."""
    dtype = result_dtype(x.dtype)
    gathered = _engine.gather_mean(x, rows, cols, divisor, dtype)  # tiny inputs: one dot product
    return gathered if gathered is not None else separable_mean(x, rows, cols, divisor, dtype)


def separable_mean(x, rows, cols, divisor, dtype):
    """:func:`avg_forward` as window sums along the rows, then down the columns, divided.
    x: (..., H, W) -> (..., oh, ow) in ``dtype``."""
    xp, adds = planes(x), sum_dtype(dtype)
    total = np.empty((len(xp), rows.out, cols.out), adds)
    along = np.empty((len(xp), rows.size, cols.out), adds)  # the sums along each row
    _engine.separable(xp, (lambda i: sum_1d(xp[i], cols, 2, adds, out=along[i]), 1, rows.size),
                      (lambda i: sum_1d(along[i], rows, 1, adds, out=total[i]), 2, cols.out))
    total /= divisor
    return total.astype(dtype, copy=False).reshape(x.shape[:-2] + total.shape[1:])


def avg_backward(grad, rows, cols, divisor, in_shape):
    """Gradient of average pooling: grad (..., oh, ow) -> (*in_shape) = (..., H, W)."""
    gathered = _engine.gather_mean_backward(grad, rows, cols, divisor, in_shape)  # tiny inputs
    return gathered if gathered is not None else separable_spread(grad, rows, cols, divisor, in_shape)


def separable_spread(grad, rows, cols, divisor, in_shape):
    """:func:`avg_backward` as two 1-D spreads of grad / divisor.
    grad: (..., oh, ow) -> (*in_shape) = (..., H, W)."""
    dtype = result_dtype(grad.dtype)
    adds = sum_dtype(dtype)  # float16 shares add up in float32
    g = planes((grad.astype(adds, copy=False) / divisor).astype(adds, copy=False))
    gi = np.empty((len(g), rows.size, cols.size), adds)
    along = np.empty((len(g), rows.out, cols.size), adds)  # along the rows first: the strided
    # pass down the columns comes second, on the smaller array
    _engine.separable(gi, (lambda i: spread_1d(g[i], cols, 2, cols.size, out=along[i]), 1, rows.out),
                      (lambda i: spread_1d(along[i], rows, 1, rows.size, out=gi[i]), 2, cols.size))
    return gi.astype(dtype, copy=False).reshape(in_shape)


def avg_pool2d(x, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling. x: (..., H, W) -> (..., oh, ow); integer input gives float64."""
    x = as_input(x)
    rows, cols, divisor = avg_plan(x.shape, pool_size, stride, padding, ceil_mode,
                                   count_include_pad, divisor_override)
    return avg_forward(x, rows, cols, divisor)


def avg_pool2d_backward(grad_output, input_shape, pool_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Gradient of average pooling. grad_output: (..., oh, ow) -> (*input_shape)."""
    shape = as_shape(input_shape)
    rows, cols, divisor = avg_plan(shape, pool_size, stride, padding, ceil_mode,
                                   count_include_pad, divisor_override)
    g = as_gradient(grad_output, shape[:-2] + (rows.out, cols.out))
    return avg_backward(g, rows, cols, divisor, shape)
