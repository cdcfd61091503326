"""Lp pooling: one family from average to max pooling.

Each window gives ``(sum of x ** p) ** (1 / p)``, as ``torch.nn.functional.lp_pool2d`` does:
``p = 1`` is the window's sum (average pooling times the window's size), ``p = 2`` its
Euclidean length, and as ``p`` grows the largest value takes over; ``p = inf`` gives the
largest absolute value. No padding. With ``ceil_mode``, a window cut short by the edge is
scaled like PyTorch's: the mean of ``x ** p`` over its cells times the full window's size, in
values and gradients alike (docs/semantics.md, "Lp pooling", has every rule: negative inputs,
all-zero windows, dtypes).

Built on ``fast``: the sums are average pooling of ``x ** p``, the gradient is average
pooling's backward pass times ``x ** (p - 1)``, and ``p = inf`` is max pooling of ``|x|``.

Shapes: ``x`` is ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; outputs keep the leading axes.
"""
import math

import numpy as np

from . import fast
from .geometry import as_gradient, as_input, as_norm_type, plan, result_dtype, sum_dtype


def powers(x, p):
    """``x ** p`` in the dtype Lp pooling computes in (float16 in float32, integers in float64);
    a negative cell with a fractional ``p`` gives NaN, as in PyTorch."""
    work = sum_dtype(result_dtype(x.dtype))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return np.power(x.astype(work, copy=False), work.type(p))


def window_norms(x, p, pool_size, stride, ceil_mode):
    """``(sum of x ** p) ** (1 / p)`` for every window (p finite), in the working dtype; a
    window cut short by ceil_mode: the mean of ``x ** p`` over its cells times the full size."""
    rows, cols = plan(x.shape[-2:], pool_size, stride, 0, 1, ceil_mode)
    # plain sums (divisor 1): powers that cancel add up to exactly 0, in any order of adding
    total = fast.avg_pool2d(powers(x, p), pool_size, stride, ceil_mode=ceil_mode, divisor_override=1)
    if ceil_mode:  # windows cut short by the edge count as full ones: times F / (their cells)
        cells = fast.avg_pool2d(np.ones(x.shape[-2:]), pool_size, stride, ceil_mode=True,
                                divisor_override=1)
        total *= (rows.pool * cols.pool / cells).astype(total.dtype)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return np.power(total, total.dtype.type(1 / p))


def lp_pool2d(x, norm_type, pool_size, stride=None, ceil_mode=False):
    """Lp pooling. x: (..., H, W) -> (..., oh, ow): ``(sum of x ** p) ** (1 / p)`` per window,
    ``p = norm_type`` (``inf``: the largest absolute value). Integer input gives float64."""
    x, p = as_input(x), as_norm_type(norm_type)
    if math.isinf(p):
        return fast.max_pool2d(np.abs(x).astype(result_dtype(x.dtype), copy=False), pool_size,
                               stride, ceil_mode=ceil_mode)
    return window_norms(x, p, pool_size, stride, ceil_mode).astype(result_dtype(x.dtype), copy=False)


def lp_pool2d_backward(grad_output, x, norm_type, pool_size, stride=None, ceil_mode=False):
    """Gradient of Lp pooling. grad_output: (..., oh, ow) -> (..., H, W).

    Cell ``i`` of a window with norm ``y`` gets ``g * F / n * y ** (1 - p) * x_i ** (p - 1)``
    (``F`` the full window's size, ``n`` its cells inside the input); a window whose norm is 0
    (all zeros, or powers that cancel) sends nothing back, as in PyTorch, and a cell that
    receives nothing gets 0. ``p = inf``: each window's gradient goes to its first largest ``|x|``,
    with that cell's sign. The gradient has x's float dtype (integers: float64), as in PyTorch."""
    x, p = as_input(x), as_norm_type(norm_type)
    dtype = result_dtype(x.dtype)
    if math.isinf(p):
        grad = fast.max_pool2d_backward(grad_output, np.abs(x).astype(dtype, copy=False),
                                        pool_size, stride, ceil_mode=ceil_mode)
        return np.where(grad != 0, grad * np.sign(x), 0).astype(dtype, copy=False)
    rows, cols = plan(x.shape[-2:], pool_size, stride, 0, 1, ceil_mode)
    norms = window_norms(x, p, pool_size, stride, ceil_mode)
    grad = as_gradient(grad_output, norms.shape).astype(norms.dtype, copy=False)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # a norm of 0 sends nothing
        sent = np.where(norms == 0, 0, grad * (rows.pool * cols.pool) * np.power(norms, norms.dtype.type(1 - p)))
    shares = fast.avg_pool2d_backward(sent, x.shape, pool_size, stride, ceil_mode=ceil_mode)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        # a cell that receives nothing gets 0, even where x ** (p - 1) is NaN or infinite
        return np.where(shares != 0, shares * powers(x, p - 1), 0).astype(dtype, copy=False)
