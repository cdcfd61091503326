"""Global and adaptive pooling (you choose the output size, the windows follow), and unpooling.

Adaptive pooling to ``out`` bins along an axis of length ``L``: bin ``i`` covers cells
``[floor(i * L / out), ceil((i + 1) * L / out))``. Global pooling is adaptive pooling to 1 x 1.
Max follows the same rules as ``max_pool2d``: first maximum on ties, the last NaN wins.

Shapes: ``x`` is ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; outputs keep the leading axes.
"""
import numpy as np

from ._engine import first_max
from .geometry import bins  # noqa: F401  (notebook 05 imports it from here)
from .geometry import (adaptive_bins, as_gradient, as_input, as_pair, as_shape, flat_planes, of_kind,
                       planes, result_dtype)


def adaptive_winners(xp, row_bins, col_bins):
    """Flat index ``h * W + w`` of every bin's winner. xp: (P, H, W) -> (P, oh, ow) int64."""
    W = xp.shape[-1]
    idx = np.empty((len(xp), len(row_bins), len(col_bins)), np.int64)
    for i, (h0, h1) in enumerate(row_bins):
        for j, (w0, w1) in enumerate(col_bins):
            arg = first_max(flat_planes(xp[:, h0:h1, w0:w1]))
            idx[:, i, j] = (h0 + arg // (w1 - w0)) * W + w0 + arg % (w1 - w0)
    return idx


def gather(xp, idx):
    """Values of planes xp (P, H, W) at flat plane indices idx (P, ...)."""
    return np.take_along_axis(flat_planes(xp), flat_planes(idx), axis=1).reshape(idx.shape)


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Max over adaptive bins. x: (..., H, W) -> (..., oh, ow) [, int64 flat indices]."""
    x = as_input(x)
    xp = planes(x)
    idx = adaptive_winners(xp, *adaptive_bins(x.shape, output_size))
    out = gather(xp, idx).reshape(x.shape[:-2] + idx.shape[1:])
    return (out, idx.reshape(out.shape)) if return_indices else out


def adaptive_max_pool2d_backward(grad_output, x, output_size):
    """Gradient of adaptive max pooling: each bin's gradient goes to its winner (adding up)."""
    x = as_input(x)
    row_bins, col_bins = adaptive_bins(x.shape, output_size)
    g = as_gradient(grad_output, x.shape[:-2] + (len(row_bins), len(col_bins)))
    xp = planes(x)
    idx = flat_planes(adaptive_winners(xp, row_bins, col_bins))
    gi = np.zeros((len(xp), x.shape[-2] * x.shape[-1]), result_dtype(g.dtype))
    rows = np.arange(len(xp))
    for k, column in enumerate(flat_planes(planes(g)).T):
        gi[rows, idx[:, k]] += column  # one winner per plane: no clashes within a bin
    return gi.reshape(x.shape)


def adaptive_avg_pool2d(x, output_size):
    """Mean over adaptive bins. x: (..., H, W) -> (..., oh, ow); integer input gives float64."""
    x = as_input(x)
    row_bins, col_bins = adaptive_bins(x.shape, output_size)
    xp = planes(x)
    out = np.empty((len(xp), len(row_bins), len(col_bins)), result_dtype(x.dtype))
    for i, (h0, h1) in enumerate(row_bins):
        for j, (w0, w1) in enumerate(col_bins):
            out[:, i, j] = xp[:, h0:h1, w0:w1].mean(axis=(1, 2))
    return out.reshape(x.shape[:-2] + out.shape[1:])


def adaptive_avg_pool2d_backward(grad_output, input_shape, output_size):
    """Gradient of adaptive average pooling: each bin spreads grad / (cells in bin)."""
    shape = as_shape(input_shape)
    row_bins, col_bins = adaptive_bins(shape, output_size)
    g = planes(as_gradient(grad_output, shape[:-2] + (len(row_bins), len(col_bins))))
    gi = np.zeros((len(g),) + shape[-2:], g.dtype)
    for i, (h0, h1) in enumerate(row_bins):
        for j, (w0, w1) in enumerate(col_bins):
            gi[:, h0:h1, w0:w1] += (g[:, i, j] / ((h1 - h0) * (w1 - w0)))[:, None, None]
    return gi.reshape(shape)


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
    if indices.size and (indices.min() < 0 or indices.max() >= H * W):
        raise ValueError(f"indices must lie in [0, {H * W}) for output_size={(H, W)}, "
                         f"got values from {indices.min()} to {indices.max()}")
    vp = planes(values)
    out = np.zeros((len(vp), H * W), values.dtype)
    out[np.arange(len(vp))[:, None], flat_planes(planes(indices))] = flat_planes(vp)
    return out.reshape(values.shape[:-2] + (H, W))
