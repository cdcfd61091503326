"""Readable loop versions of max, average and Lp pooling: what you would write by hand.

Same signatures and results as the fast versions in ``pooling_lib`` (the tests check this),
but every window and every cell is visited by a plain Python loop, so each step of the
computation can be read off the code. Slow: for teaching and for testing only.

Shapes: ``x`` is ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; outputs keep the leading axes.
"""
import numpy as np

from .geometry import (adaptive_bins, as_bool, as_gradient, as_input, as_norm_type, as_shape,
                       avg_plan, counts_padding, max_backward_args, plan, result_dtype, sum_dtype)


def window_cells(rows, cols, i, j):
    """The input cells ``(h, w)`` of window ``(i, j)``, row by row, skipping padding."""
    cells = []
    for a in rows.taps():  # the taps that can land inside the input (all of them, but for huge pools)
        h = i * rows.stride - rows.pad_before + a * rows.dilation
        for b in cols.taps():
            w = j * cols.stride - cols.pad_before + b * cols.dilation
            if 0 <= h < rows.size and 0 <= w < cols.size:
                cells.append((h, w))
    return cells


def bin_cells(row_bin, col_bin):
    """The input cells ``(h, w)`` of the adaptive bin ``rows [h0, h1) x columns [w0, w1)``."""
    (h0, h1), (w0, w1) = row_bin, col_bin
    return [(h, w) for h in range(h0, h1) for w in range(w0, w1)]


def every_window(x, n_rows, n_cols, cells):
    """Yield ``(plane index, i, j, cells(i, j))`` for each window (i, j) of an ``n_rows`` x
    ``n_cols`` output, on every plane of x (..., H, W)."""
    for p in np.ndindex(x.shape[:-2]):
        for i in range(n_rows):
            for j in range(n_cols):
                yield p, i, j, cells(i, j)


def windows(x, rows, cols):
    """Yield ``(plane index, i, j, cells)`` for every window of every plane of x (..., H, W)."""
    return every_window(x, rows.out, cols.out, lambda i, j: window_cells(rows, cols, i, j))


def adaptive_windows(x, row_bins, col_bins):
    """Yield ``(plane index, i, j, cells)`` for every adaptive bin of every plane of x."""
    return every_window(x, len(row_bins), len(col_bins),
                        lambda i, j: bin_cells(row_bins[i], col_bins[j]))


def is_nan(value):
    return value != value


def winner(plane, cells, ties="first"):
    """The winning cell of a window: the largest value, a NaN beats everything.

    On ties the first cell wins (``ties="last"``: the last one); among NaNs, the last.
    """
    best = None
    for h, w in cells:
        value = plane[h, w]
        if best is None or value > plane[best] or is_nan(value) or (
                ties == "last" and value == plane[best]):
            best = (h, w)
    return best


def tied_cells(plane, cells):
    """All cells of a window that equal its maximum (NaNs, if there are any)."""
    top = plane[winner(plane, cells)]
    return [c for c in cells if plane[c] == top or (is_nan(top) and is_nan(plane[c]))]


def cell_sum(plane, cells, dtype):
    """The values of ``plane`` at ``cells``, added one by one in ``dtype``."""
    total = dtype.type(0)
    for h, w in cells:
        total += plane[h, w]
    return total


def maxima(x, out_shape, all_windows, return_indices):
    """The winner of each window in ``all_windows`` (:func:`windows`, :func:`adaptive_windows`):
    values (..., oh, ow) of x's dtype [, int64 indices ``h * W + w``]; ``out_shape = (oh, ow)``."""
    return_indices = as_bool(return_indices, "return_indices")
    out = np.zeros(x.shape[:-2] + out_shape, x.dtype)
    indices = np.zeros(out.shape, np.int64)
    for p, i, j, cells in all_windows:
        h, w = winner(x[p], cells)
        out[p + (i, j)] = x[p + (h, w)]
        indices[p + (i, j)] = h * x.shape[-1] + w
    return (out, indices) if return_indices else out


def max_pool2d(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling with loops. x: (..., H, W) -> (..., oh, ow) [, int64 indices]."""
    x = as_input(x)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation, ceil_mode)
    return maxima(x, (rows.out, cols.out), windows(x, rows, cols), return_indices)


def max_pool2d_backward(grad_output, x, pool_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, ties="first"):
    """Gradient of max pooling with loops: each window's gradient goes to its winner(s)."""
    x, rows, cols, grad = max_backward_args(grad_output, x, pool_size, stride, padding, dilation,
                                            ceil_mode, ties)
    grad_input = np.zeros(x.shape, result_dtype(grad.dtype))
    for p, i, j, cells in windows(x, rows, cols):
        g = grad[p + (i, j)]
        if ties in ("first", "last"):
            receivers, share = [winner(x[p], cells, ties)], g
        else:
            receivers = tied_cells(x[p], cells)
            share = g / len(receivers) if ties == "split" else g
        for h, w in receivers:
            grad_input[p + (h, w)] += share  # += : overlapping windows add up
    return grad_input


def divisor(rows, cols, i, j, cells, include_pad, divisor_override):
    """What window (i, j)'s sum is divided by."""
    if divisor_override is not None:
        return divisor_override
    if not include_pad:
        return len(cells)
    return padded_length(rows, i) * padded_length(cols, j)


def padded_length(ax, i):
    """How many cells of window ``i`` along axis ``ax`` lie in the input or its padding:
    the window ``[start, start + pool)`` clipped to ``[-pad_before, size + pad_after)``."""
    start = i * ax.stride - ax.pad_before
    return min(start + ax.pool, ax.size + ax.pad_after) - max(start, -ax.pad_before)


def avg_pool2d(x, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling with loops. x: (..., H, W) -> (..., oh, ow)."""
    x = as_input(x)
    rows, cols, _ = avg_plan(x.shape, pool_size, stride, padding, ceil_mode,
                             count_include_pad, divisor_override)
    include_pad = counts_padding(padding, count_include_pad)
    out = np.zeros(x.shape[:-2] + (rows.out, cols.out), result_dtype(x.dtype))
    for p, i, j, cells in windows(x, rows, cols):
        out[p + (i, j)] = cell_sum(x[p], cells, sum_dtype(out.dtype)) / divisor(
            rows, cols, i, j, cells, include_pad, divisor_override)
    return out


def avg_pool2d_backward(grad_output, input_shape, pool_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Gradient of average pooling with loops: each window spreads grad / divisor over its cells."""
    shape = as_shape(input_shape)
    rows, cols, _ = avg_plan(shape, pool_size, stride, padding, ceil_mode,
                             count_include_pad, divisor_override)
    include_pad = counts_padding(padding, count_include_pad)
    grad = as_gradient(grad_output, shape[:-2] + (rows.out, cols.out))
    grad_input = np.zeros(shape, sum_dtype(grad.dtype))  # float16 adds up in float32
    for p, i, j, cells in windows(grad_input, rows, cols):
        share = grad_input.dtype.type(grad[p + (i, j)]) / divisor(rows, cols, i, j, cells,
                                                                  include_pad, divisor_override)
        for h, w in cells:
            grad_input[p + (h, w)] += share
    return grad_input.astype(grad.dtype, copy=False)


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Adaptive max pooling with loops: the winner of each bin, as in max pooling."""
    x = as_input(x)
    row_bins, col_bins = adaptive_bins(x.shape, output_size)
    return maxima(x, (len(row_bins), len(col_bins)), adaptive_windows(x, row_bins, col_bins),
                  return_indices)


def adaptive_avg_pool2d(x, output_size):
    """Adaptive average pooling with loops: the mean of each bin."""
    x = as_input(x)
    row_bins, col_bins = adaptive_bins(x.shape, output_size)
    out = np.zeros(x.shape[:-2] + (len(row_bins), len(col_bins)), result_dtype(x.dtype))
    for p, i, j, cells in adaptive_windows(x, row_bins, col_bins):
        out[p + (i, j)] = cell_sum(x[p], cells, sum_dtype(out.dtype)) / len(cells)
    return out


def lp_pool2d(x, norm_type, pool_size, stride=None, ceil_mode=False):
    """Lp pooling with loops: each window's ``(sum of x ** p) ** (1 / p)``, a window cut short
    by ceil_mode scaled to the full window's size; ``p = inf``: its largest ``|x|``.
    x: (..., H, W) -> (..., oh, ow)."""
    x, p = as_input(x), as_norm_type(norm_type)
    rows, cols = plan(x.shape[-2:], pool_size, stride, 0, 1, ceil_mode)
    out = np.zeros(x.shape[:-2] + (rows.out, cols.out), result_dtype(x.dtype))
    for q, i, j, cells in windows(x, rows, cols):
        out[q + (i, j)] = window_norm(x[q], cells, p, rows.pool * cols.pool)
    return out


def window_norm(plane, cells, p, full):
    """One window's Lp norm (see :func:`lp_pool2d`), in the dtype Lp pooling works in."""
    work = sum_dtype(result_dtype(plane.dtype)).type
    values = [work(plane[c]) for c in cells]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if p == np.inf:  # the largest |x|; a NaN wins, as in max pooling
            top = abs(values[0])
            for v in values[1:]:
                if abs(v) > top or is_nan(v):
                    top = abs(v)
            return top
        total = sum(v ** work(p) for v in values) / work(len(cells)) * work(full)
        return total ** work(1 / p)


def lp_pool2d_backward(grad_output, x, norm_type, pool_size, stride=None, ceil_mode=False):
    """Gradient of Lp pooling with loops. Cell ``i`` of a window with norm ``y`` gets
    ``g * (full / cells) * y ** (1 - p) * x_i ** (p - 1)``; a window whose norm is 0 sends
    nothing, and a cell no window sends anything to gets 0; ``p = inf``: the first largest
    ``|x|`` gets ``g`` times its sign."""
    x, p = as_input(x), as_norm_type(norm_type)
    rows, cols = plan(x.shape[-2:], pool_size, stride, 0, 1, ceil_mode)
    grad = as_gradient(grad_output, x.shape[:-2] + (rows.out, cols.out))
    work = sum_dtype(result_dtype(x.dtype)).type
    grad_input = np.zeros(x.shape, work)
    full = rows.pool * cols.pool
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for q, i, j, cells in windows(x, rows, cols):
            g, plane = work(grad[q + (i, j)]), x[q]
            if p == np.inf:
                top = winner(np.abs(plane), cells)
                grad_input[q + top] += g * np.sign(work(plane[top]))
                continue
            norm = window_norm(plane, cells, p, full)
            if norm == 0:
                continue  # a norm of 0 (all zeros, or powers that cancel): nothing sent, as PyTorch
            share = g * work(full) * norm ** work(1 - p) / work(len(cells))
            if share == 0:
                continue  # nothing sent: no cell of the window receives anything
            for c in cells:
                grad_input[q + c] += share * work(plane[c]) ** work(p - 1)
    return grad_input.astype(result_dtype(x.dtype), copy=False)
