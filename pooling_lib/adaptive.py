"""Global and adaptive pooling (you choose the output size, the windows follow), and unpooling.

Adaptive pooling to ``out`` bins along an axis of length ``L``: bin ``i`` covers cells
``[floor(i * L / out), ceil((i + 1) * L / out))``. Global pooling is adaptive pooling to 1 x 1.
Max follows the same rules as ``max_pool2d``: first maximum on ties, the last NaN wins.

Like ``pooling_lib.fast``, it goes one axis at a time: along the rows, then down the columns.
Along one axis every bin is gathered at once, as a ``(out, width)`` block of cells padded to
the widest bin, so the work grows with ``L + out``, not with the number of bins times a loop.

Shapes: ``x`` is ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; outputs keep the leading axes.
"""
import numpy as np

from ._engine import first_max
from .geometry import bins  # noqa: F401  (notebook 05 imports it from here)
from .geometry import (adaptive_size, as_bool, as_gradient, as_input, as_pair, as_shape, bin_edges,
                       check_result, flat_planes, lowest, of_kind, planes, result_dtype, sum_dtype)


def segments(starts, stops):
    """Index blocks of the ranges ``[starts[i], stops[i])`` (non-empty, start and stop both
    non-decreasing): ``index`` (n, width), each row a range padded with its last cell, and
    ``inside`` (n, width), False on the padding."""
    width = int((stops - starts).max())
    index = starts[:, None] + np.arange(width)
    inside = index < stops[:, None]
    return np.minimum(index, stops[:, None] - 1), inside


def bin_max(a, size, out):
    """Maxima of the ``out`` bins along the last axis of a (..., size): values (..., out) and the
    winning cell of each bin (first maximum, the last NaN)."""
    index, inside = segments(*bin_edges(size, out))
    block = np.where(inside, a[..., index], lowest(a.dtype))  # padding never wins: it is last
    arg = first_max(block.reshape(-1, index.shape[1])).reshape(block.shape[:-1])
    return np.take_along_axis(block, arg[..., None], -1)[..., 0], index[np.arange(out), arg]


def bin_sum(a, size, out, dtype):
    """Sums of the ``out`` bins along the last axis of a (..., size), in ``dtype``: (..., out)."""
    index, inside = segments(*bin_edges(size, out))
    return np.where(inside, a[..., index], 0).sum(axis=-1, dtype=sum_dtype(dtype))


def bin_spread(g, size, out):
    """The transpose of :func:`bin_sum`: each of ``size`` cells gets the sum of ``g`` (..., out)
    over the bins that hold it -> (..., size)."""
    starts, stops = bin_edges(size, out)
    cells = np.arange(size)
    first = np.searchsorted(stops, cells, side="right")     # the first bin ending after the cell
    last = np.searchsorted(starts, cells, side="right")     # one past the last bin starting at or before it
    index, inside = segments(first, last)
    return np.where(inside, g[..., index], 0).sum(axis=-1, dtype=sum_dtype(g.dtype))


def adaptive_winners(xp, oh, ow):
    """Flat index ``h * W + w`` of every bin's winner. xp: (P, H, W) -> (P, oh, ow) int64."""
    _, H, W = xp.shape
    along_rows, col = bin_max(xp, W, ow)                     # (P, H, ow): each row's winners
    _, row = bin_max(along_rows.transpose(0, 2, 1), H, oh)   # (P, ow, oh): the winning rows
    row = row.transpose(0, 2, 1)                              # (P, oh, ow)
    return row * W + np.take_along_axis(col, row, axis=1)


def gather(xp, idx):
    """Values of planes xp (P, H, W) at flat plane indices idx (P, ...)."""
    return np.take_along_axis(flat_planes(xp), flat_planes(idx), axis=1).reshape(idx.shape)


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Max over adaptive bins. x: (..., H, W) -> (..., oh, ow) [, int64 flat indices]."""
    x = as_input(x)
    xp = planes(x)
    idx = adaptive_winners(xp, *adaptive_size(x.shape, output_size))
    out = gather(xp, idx).reshape(x.shape[:-2] + idx.shape[1:])
    return (out, idx.reshape(out.shape)) if as_bool(return_indices, "return_indices") else out


def adaptive_max_pool2d_backward(grad_output, x, output_size):
    """Gradient of adaptive max pooling: each bin's gradient goes to its winner (adding up)."""
    x = as_input(x)
    oh, ow = adaptive_size(x.shape, output_size)
    g = as_gradient(grad_output, x.shape[:-2] + (oh, ow))
    xp = planes(x)
    plane_cells = x.shape[-2] * x.shape[-1]
    cells = adaptive_winners(xp, oh, ow) + (np.arange(len(xp)) * plane_cells)[:, None, None]
    # bincount adds up cells that won several bins (in float64, then in the gradient's dtype)
    gi = np.bincount(cells.ravel(), g.ravel(), len(xp) * plane_cells)
    return gi.astype(result_dtype(g.dtype), copy=False).reshape(x.shape)


def adaptive_avg_pool2d(x, output_size):
    """Mean over adaptive bins. x: (..., H, W) -> (..., oh, ow); integer input gives float64."""
    x = as_input(x)
    oh, ow = adaptive_size(x.shape, output_size)
    dtype = result_dtype(x.dtype)
    H, W = x.shape[-2:]
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
    share = g / bin_cells(H, W, oh, ow).astype(sum_dtype(g.dtype))  # float16 adds up in float32
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
    indices = of_kind(np.asarray(indices), "iu", "indices must be integers")
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
