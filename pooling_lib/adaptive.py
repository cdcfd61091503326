"""Global and adaptive pooling (you choose the output size, the windows follow), and unpooling.

Adaptive pooling to ``out`` bins along an axis of length ``L``: bin ``i`` covers cells
``[floor(i * L / out), ceil((i + 1) * L / out))``. Global pooling is adaptive pooling to 1 x 1.
Max follows the same rules as ``max_pool2d``: first maximum on ties, the last NaN wins.

Bins side by side of one size are max or average pooling with that pool, done by
``pooling_lib.fast``. Other bins go one axis at a time (along the rows, then down the columns),
either bin by bin (one slice each) or tap by tap (tap ``t`` of every bin at once, for ``t`` up
to the widest bin), whichever loop is shorter: time and memory grow with the input and output,
not with their product.

Shapes: ``x`` is ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; outputs keep the leading axes.
"""
import numpy as np

from . import fast
from ._engine import tap_dtype
from .geometry import bins  # noqa: F401  (notebook 08 imports it from here)
from .geometry import (adaptive_size, as_array, as_bool, as_gradient, as_input, as_pair, as_shape, bin_edges,
                       check_result, flat_planes, of_kind, planes, result_dtype, sum_dtype)


def bin_taps(starts, stops):
    """Tap ``t`` of every range ``[starts[i], stops[i])``, for ``t`` up to the widest: ``(t, cells,
    inside)``; a range narrower than ``t + 1`` repeats its last cell there (``inside`` False)."""
    widths = stops - starts
    for t in range(int(widths.max())):
        yield t, np.minimum(starts + t, stops - 1), t < widths


def few_bins(starts, stops):
    """Are there fewer ranges than cells in the widest? Then a loop over the ranges, each one
    slice, is shorter than a loop over their taps."""
    return len(starts) <= int((stops - starts).max())


def bin_max(a, size, out):
    """Maxima of the ``out`` bins along the last axis of a (..., size): values (..., out) and the
    winning cell of each bin (first maximum, the last NaN), as unsigned ints."""
    if size % out == 0:  # bins side by side, all of one width: one reduction
        best, arg = block_max(a.reshape(a.shape[:-1] + (out, size // out)))
        arg += np.arange(out) * (size // out)  # the bin's first cell + the place in the bin
        return best, arg
    starts, stops = bin_edges(size, out)
    if few_bins(starts, stops):  # one reduction per bin
        best, cell = np.empty(a.shape[:-1] + (out,), a.dtype), np.empty(a.shape[:-1] + (out,), tap_dtype(size))
        for j, (start, stop) in enumerate(zip(starts, stops)):
            best[..., j], arg = block_max(a[..., start:stop])
            cell[..., j] = arg + start
        return best, cell
    # tap by tap, like fast.search_1d: memory for one (..., out) slice at a time, whatever the bins
    best = a[..., starts]
    cell = np.broadcast_to(starts.astype(tap_dtype(size)), best.shape).copy()
    for t, cells, _ in bin_taps(starts, stops):
        v = a[..., cells]  # a repeated last cell never wins twice: ties keep the earlier cell
        won = (v > best) | np.isnan(v) if a.dtype.kind == "f" else v > best  # a later NaN wins
        np.copyto(best, v, where=won)
        np.copyto(cell, cells.astype(cell.dtype), where=won)
    return best, cell


def block_max(block):
    """Maxima along the last axis of block (..., K): values (...) and int64 places (the first
    maximum, the last NaN)."""
    arg = block.argmax(axis=-1)  # the first maximum, or the first NaN
    best = np.take_along_axis(block, arg[..., None], axis=-1)[..., 0]
    if block.dtype.kind == "f" and np.isnan(best).any():  # the last NaN wins
        nan = np.isnan(block[..., ::-1])
        arg = np.where(nan.any(axis=-1), block.shape[-1] - 1 - nan.argmax(axis=-1), arg)
    return best, arg


def range_sums(a, starts, stops, dtype):
    """Sums of a (..., L) over the ranges ``[starts[i], stops[i])`` of its last axis, added up in
    :func:`~pooling_lib.geometry.sum_dtype` of ``dtype``: (..., len(starts))."""
    total = np.zeros(a.shape[:-1] + starts.shape, sum_dtype(dtype))
    if few_bins(starts, stops):  # one sum per range
        for j, (start, stop) in enumerate(zip(starts, stops)):
            a[..., start:stop].sum(axis=-1, dtype=total.dtype, out=total[..., j])
        return total
    for t, cells, inside in bin_taps(starts, stops):
        np.add(total, a[..., cells], out=total, where=inside)
    return total


def bin_sum(a, size, out, dtype):
    """Sums of the ``out`` bins along the last axis of a (..., size): (..., out)."""
    if size % out == 0:  # bins side by side, all of one width: one reduction
        return a.reshape(a.shape[:-1] + (out, size // out)).sum(axis=-1, dtype=sum_dtype(dtype))
    return range_sums(a, *bin_edges(size, out), dtype)


def bin_spread(g, size, out):
    """The transpose of :func:`bin_sum`: each of ``size`` cells gets the sum of ``g`` (..., out)
    over the bins that hold it -> (..., size)."""
    starts, stops = bin_edges(size, out)
    cells = np.arange(size)
    first = np.searchsorted(stops, cells, side="right")  # the first bin ending after the cell
    last = np.searchsorted(starts, cells, side="right")  # one past the last bin holding it
    return range_sums(g, first, last, g.dtype)


def even_pool(shape, output_size):
    """The pool ``(kh, kw)`` when the bins of an adaptive pooling of planes ``shape`` to
    ``output_size`` sit side by side, all of one size, and are not the whole plane: then it
    is max or average pooling with that pool (and stride), and ``pooling_lib.fast`` does it."""
    (H, W), (oh, ow) = shape[-2:], output_size
    if H % oh or W % ow or (oh, ow) == (1, 1):
        return None
    return H // oh, W // ow


def adaptive_search(xp, oh, ow, indices=True):
    """Maxima of every bin and (if ``indices``) their flat indices ``h * W + w``: xp (P, H, W) ->
    values (P, oh, ow) of xp's dtype, indices (P, oh, ow) int64 or None."""
    P, H, W = xp.shape
    if (oh, ow) == (1, 1):  # global pooling: one reduction over each flattened plane
        best, arg = block_max(xp.reshape(P, 1, 1, H * W))
        return best, arg if indices else None
    along_rows, col = bin_max(xp, W, ow)                        # (P, H, ow): each row's winners
    best, row = bin_max(along_rows.transpose(0, 2, 1), H, oh)   # (P, ow, oh): the winning rows
    best, row = best.transpose(0, 2, 1), row.transpose(0, 2, 1)
    if not indices:
        return best, None
    index = np.multiply(row, W, dtype=np.int64, order="C")  # C order: ravel() needs no copy
    index += np.take_along_axis(col, row, axis=1)  # small ints, added into the int64 index
    return best, index


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Max over adaptive bins. x: (..., H, W) -> (..., oh, ow) [, int64 flat indices]."""
    x = as_input(x)
    return_indices = as_bool(return_indices, "return_indices")
    pool = even_pool(x.shape, adaptive_size(x.shape, output_size))
    if pool:
        return fast.max_pool2d(x, pool, return_indices=return_indices)
    out, idx = adaptive_search(planes(x), *adaptive_size(x.shape, output_size), return_indices)
    shape = x.shape[:-2] + out.shape[1:]
    return (out.reshape(shape), idx.reshape(shape)) if return_indices else out.reshape(shape)


def adaptive_max_pool2d_backward(grad_output, x, output_size):
    """Gradient of adaptive max pooling: each bin's gradient goes to its winner (adding up)."""
    x = as_input(x)
    oh, ow = adaptive_size(x.shape, output_size)
    g = as_gradient(grad_output, x.shape[:-2] + (oh, ow))
    pool = even_pool(x.shape, (oh, ow))
    if pool:
        return fast.max_pool2d_backward(g, x, pool)
    xp = planes(x)
    plane_cells = x.shape[-2] * x.shape[-1]
    cells = adaptive_search(xp, oh, ow)[1]
    cells += (np.arange(len(xp)) * plane_cells)[:, None, None]
    gi = np.zeros(len(xp) * plane_cells, result_dtype(g.dtype))
    np.add.at(gi, cells.ravel(), g.ravel())  # adds up cells that won several bins, in g's dtype
    return gi.reshape(x.shape)


def adaptive_avg_pool2d(x, output_size):
    """Mean over adaptive bins. x: (..., H, W) -> (..., oh, ow); integer input gives float64."""
    x = as_input(x)
    oh, ow = adaptive_size(x.shape, output_size)
    dtype = result_dtype(x.dtype)
    H, W = x.shape[-2:]
    pool = even_pool(x.shape, (oh, ow))
    if pool:
        return fast.avg_pool2d(x, pool)
    if (oh, ow) == (1, 1):  # global pooling: one sum over each flattened plane
        total = x.reshape(x.shape[:-2] + (1, 1, H * W)).sum(axis=-1, dtype=sum_dtype(dtype))
    else:
        total = bin_sum(bin_sum(x, W, ow, dtype).swapaxes(-1, -2), H, oh, dtype).swapaxes(-1, -2)
    return (total / bin_cells(H, W, oh, ow).astype(total.dtype)).astype(dtype, copy=False)


def bin_cells(H, W, oh, ow):
    """Cells in each adaptive bin: (oh, ow)."""
    (r0, r1), (c0, c1) = bin_edges(H, oh), bin_edges(W, ow)
    return (r1 - r0)[:, None] * (c1 - c0)[None, :]


def adaptive_avg_pool2d_backward(grad_output, input_shape, output_size):
    """Gradient of adaptive average pooling: each bin spreads grad / (cells in bin)."""
    shape = as_shape(input_shape)
    oh, ow = adaptive_size(shape, output_size)
    g = as_gradient(grad_output, shape[:-2] + (oh, ow))
    H, W = shape[-2:]
    pool = even_pool(shape, (oh, ow))
    if pool:
        return fast.avg_pool2d_backward(g, shape, pool)
    share = g / bin_cells(H, W, oh, ow).astype(sum_dtype(g.dtype))  # float16 adds up in float32
    if (oh, ow) == (1, 1):  # global pooling: every cell gets its plane's share
        gi = np.empty(share.shape[:-2] + (H, W), share.dtype)
        gi[...] = share
    else:
        gi = bin_spread(bin_spread(share, W, ow).swapaxes(-1, -2), H, oh).swapaxes(-1, -2)
    return gi.astype(g.dtype, copy=False).reshape(shape)


def global_max_pool2d(x):
    """Largest value of each plane. x: (..., H, W) -> (..., 1, 1)."""
    return adaptive_max_pool2d(x, 1)


def global_max_pool2d_backward(grad_output, x):
    """Gradient of global max pooling. grad_output: (..., 1, 1) -> (..., H, W)."""
    return adaptive_max_pool2d_backward(grad_output, x, 1)


def global_avg_pool2d(x):
    """Mean of each plane. x: (..., H, W) -> (..., 1, 1)."""
    return adaptive_avg_pool2d(x, 1)


def global_avg_pool2d_backward(grad_output, input_shape):
    """Gradient of global average pooling. grad_output: (..., 1, 1) -> input_shape."""
    return adaptive_avg_pool2d_backward(grad_output, input_shape, 1)


def max_unpool2d(values, indices, output_size):
    """Put pooled values back where they came from; every other cell is 0.

    values, indices: (..., oh, ow), indices flat ``h * W + w`` as returned by
    ``max_pool2d(..., return_indices=True)``; output_size: ``(H, W)`` -> (..., H, W).
    """
    values = as_input(values, "values")
    indices = of_kind(as_array(indices, "indices"), "iu", "indices must be integers")
    if indices.shape != values.shape:
        raise ValueError(f"indices must have the shape of values {values.shape}, got {indices.shape}")
    H, W = as_pair(output_size, "output_size", 1)
    check_result(values.shape[:-2] + (H, W), "output_size", values.itemsize)
    if indices.size and (indices.min() < 0 or indices.max() >= H * W):
        raise ValueError(f"indices must lie in [0, {H * W}) for output_size={(H, W)}, "
                         f"got values from {indices.min()} to {indices.max()}")
    vp = planes(values)
    out = np.zeros((len(vp), H * W), values.dtype)
    out[np.arange(len(vp))[:, None], flat_planes(planes(indices))] = flat_planes(vp)
    return out.reshape(values.shape[:-2] + (H, W))
