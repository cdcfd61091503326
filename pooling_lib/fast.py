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
from itertools import product

import numpy as np

from .geometry import as_gradient, as_input, as_int, as_shape, plan

TIES = ("first", "last", "split", "all")
CHUNK_BYTES = 1 << 18  # planes are processed in chunks of about this many input bytes


# --- shared plumbing -------------------------------------------------------------------------

def taps(rows, cols):
    """Every tap ``k = a * kw + b`` of a window with its (output slice, input slice) pairs."""
    for k, (a, b) in enumerate(product(range(rows.pool), range(cols.pool))):
        (oi, ii), (oj, ij) = rows.input_slice(a), cols.input_slice(b)
        yield k, (slice(None), oi, oj), (slice(None), ii, ij)


def chunks(planes):
    """Slices of about ``CHUNK_BYTES`` over the first axis of ``planes`` (P, H, W)."""
    step = max(1, CHUNK_BYTES // max(1, planes[0].nbytes)) if len(planes) else 1
    return [slice(s, s + step) for s in range(0, len(planes), step)] or [slice(0, 0)]


def first_valid_tap(rows, cols):
    """``(oh, ow)`` tap number of each window's first cell inside the input (row-major)."""
    a0 = rows.tap_valid().argmax(axis=1)
    b0 = cols.tap_valid().argmax(axis=1)
    return a0[:, None] * cols.pool + b0[None, :]


def lowest(dtype):
    """The smallest value of ``dtype``: what a padded cell of max pooling is worth."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def check_ties(ties):
    if ties not in TIES:
        raise ValueError(f"ties must be one of {', '.join(map(repr, TIES))}, got {ties!r}")
    return ties


def grad_dtype(g):
    return g.dtype if g.dtype.kind == "f" else np.float64


# --- max pooling -----------------------------------------------------------------------------

def max_search(x, rows, cols, ties="first"):
    """Maxima of all windows and the number of each window's winning tap.

    x: (P, H, W) -> out (P, oh, ow) of x's dtype, arg (P, oh, ow) of uint8/uint16.
    Ties go to the first tap in row-major order (``ties="last"``: the last); a NaN wins
    over everything, the last NaN over earlier ones.
    """
    shape = (len(x), rows.out, cols.out)
    out = np.full(shape, lowest(x.dtype), x.dtype)
    arg = np.empty(shape, np.uint8 if rows.pool * cols.pool <= 256 else np.uint16)
    arg[...] = first_valid_tap(rows, cols)
    wins = np.greater_equal if ties == "last" else np.greater
    for part in chunks(x):
        xp, op, ap = x[part], out[part], arg[part]
        for k, o, i in taps(rows, cols):
            np.copyto(ap[o], k, where=wins(xp[i], op[o]))
            np.maximum(op[o], xp[i], out=op[o])
    if x.dtype.kind == "f" and np.isnan(out).any():
        for k, o, i in taps(rows, cols):
            np.copyto(arg[o], k, where=np.isnan(x[i]))
    return out, arg


def max_route(grad, arg, rows, cols, in_shape):
    """Send each window's gradient to its winning tap; overlapping windows add up.

    grad, arg: (P, oh, ow) -> grad_input (P, H, W).
    """
    gi = np.zeros(in_shape, grad_dtype(grad))
    for k, o, i in taps(rows, cols):
        np.add(gi[i], grad[o], out=gi[i], where=arg[o] == k)
    return gi


def tied(v, best):
    """Cells equal to their window's maximum (NaN counts as equal to NaN)."""
    same = v == best
    if v.dtype.kind == "f":
        same |= np.isnan(v) & np.isnan(best)
    return same


def max_share(grad, x, out, rows, cols, ties):
    """Backward for ``ties="split"`` (1/k to each of k tied cells) and ``"all"`` (each gets all)."""
    if ties == "split":
        count = np.zeros(out.shape, np.int64)
        for k, o, i in taps(rows, cols):
            count[o] += tied(x[i], out[o])
        grad = grad / count
    gi = np.zeros(x.shape, grad_dtype(grad))
    for k, o, i in taps(rows, cols):
        np.add(gi[i], grad[o], out=gi[i], where=tied(x[i], out[o]))
    return gi


def flat_indices(arg, rows, cols):
    """Winning cells as int64 flat indices ``h * W + w`` into each (H, W) plane."""
    W = cols.size
    base = rows.starts()[:, None] * W + cols.starts()[None, :]
    a, b = np.divmod(np.arange(rows.pool * cols.pool), cols.pool)
    return base + (a * rows.dilation * W + b * cols.dilation)[arg]


def planes(x):
    """``x`` (..., H, W) viewed as (P, H, W)."""
    return x.reshape(-1, *x.shape[-2:])


def max_pool2d(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling. x: (..., H, W) -> (..., oh, ow), plus int64 indices if ``return_indices``."""
    x = as_input(x)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation, ceil_mode)
    out, arg = max_search(planes(x), rows, cols)
    lead = x.shape[:-2]
    out = out.reshape(lead + out.shape[1:])
    if return_indices:
        return out, flat_indices(arg, rows, cols).reshape(out.shape)
    return out


def max_pool2d_backward(grad_output, x, pool_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, ties="first"):
    """Gradient of max pooling. grad_output: (..., oh, ow), x: (..., H, W) -> (..., H, W)."""
    x = as_input(x)
    check_ties(ties)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation, ceil_mode)
    g = planes(as_gradient(grad_output, x.shape[:-2] + (rows.out, cols.out)))
    xp = planes(x)
    out, arg = max_search(xp, rows, cols, ties)
    if ties in ("split", "all"):
        return max_share(g, xp, out, rows, cols, ties).reshape(x.shape)
    return max_route(g, arg, rows, cols, xp.shape).reshape(x.shape)


# --- average pooling -------------------------------------------------------------------------

def avg_divisor(rows, cols, padding, count_include_pad, divisor_override):
    """What each window's sum is divided by: a number, or an (oh, ow) array at the borders."""
    if divisor_override is not None:
        if as_int(divisor_override, "divisor_override") == 0:
            raise ValueError("divisor_override must not be 0, got 0")
        return divisor_override
    include = bool(count_include_pad) and not isinstance(padding, str)
    d = rows.counts(include)[:, None] * cols.counts(include)[None, :]
    return d.flat[0] if (d == d.flat[0]).all() else d


def avg_setup(shape, pool_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be True or False, got {count_include_pad!r}")
    rows, cols = plan(shape[-2:], pool_size, stride, padding, 1, ceil_mode)
    return rows, cols, avg_divisor(rows, cols, padding, count_include_pad, divisor_override)


def avg_pool2d(x, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling. x: (..., H, W) -> (..., oh, ow); integer input gives float64."""
    x = as_input(x)
    rows, cols, divisor = avg_setup(x.shape, pool_size, stride, padding, ceil_mode,
                                    count_include_pad, divisor_override)
    xp = planes(x)
    total = np.zeros((len(xp), rows.out, cols.out), x.dtype if x.dtype.kind == "f" else np.float64)
    for k, o, i in taps(rows, cols):
        total[o] += xp[i]
    total /= divisor
    return total.reshape(x.shape[:-2] + total.shape[1:])


def avg_pool2d_backward(grad_output, input_shape, pool_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Gradient of average pooling. grad_output: (..., oh, ow) -> (*input_shape)."""
    shape = as_shape(input_shape)
    rows, cols, divisor = avg_setup(shape, pool_size, stride, padding, ceil_mode,
                                    count_include_pad, divisor_override)
    g = planes(as_gradient(grad_output, shape[:-2] + (rows.out, cols.out))) / divisor
    gi = np.zeros((len(g),) + shape[-2:], g.dtype)
    for k, o, i in taps(rows, cols):
        gi[i] += g[o]
    return gi.reshape(shape)
