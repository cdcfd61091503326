"""Numerical gradients by centred differences, and the relative error used to compare them."""
import math
import numbers

import numpy as np


def numerical_gradient(f, x, grad_output, h=1e-5):
    """d(sum(f(x) * grad_output))/dx by centred differences, in float64.

    f: array -> array; x: any shape; grad_output: f(x)'s shape -> array of x's shape.
    """
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
        raise TypeError(f"h must be a number, got {h!r}")
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite step > 0, got {h!r}")
    x = np.array(x, dtype=np.float64)
    grad_output = np.asarray(grad_output, dtype=np.float64)
    shape = np.shape(f(x.copy()))
    if grad_output.shape != shape:
        raise ValueError(f"grad_output must have the shape of f(x), {shape}, got "
                         f"{grad_output.shape}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + h
        plus = np.sum(f(x) * grad_output)
        x[i] = saved - h
        minus = np.sum(f(x) * grad_output)
        x[i] = saved
        grad[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a, b):
    """``max(|a - b| / max(1e-8, |a| + |b|))``: below 1e-7 means two gradients agree."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error needs arrays of one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
