"""pooling_lib: exact, fast max, average and Lp pooling in NumPy, forward and backward.

Semantics follow PyTorch (output sizes, first maximum on ties, NaN propagation, index format).
Readable loop versions of the same functions live in ``pooling_lib.reference``.
"""
from .adaptive import (adaptive_avg_pool2d, adaptive_avg_pool2d_backward, adaptive_max_pool2d,
                       adaptive_max_pool2d_backward, global_avg_pool2d, global_avg_pool2d_backward,
                       global_max_pool2d, global_max_pool2d_backward, max_unpool2d)
from .fast import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from .geometry import pool_output_size
from .gradcheck import numerical_gradient, relative_error
from .layers import AvgPool, Layer, MaxPool
from .lp import lp_pool2d, lp_pool2d_backward
from .pool1d import avg_pool1d, avg_pool1d_backward, max_pool1d, max_pool1d_backward

__version__ = "0.1.0"

__all__ = [
    "pool_output_size", "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "max_unpool2d", "global_max_pool2d", "global_max_pool2d_backward", "global_avg_pool2d",
    "global_avg_pool2d_backward", "adaptive_max_pool2d", "adaptive_max_pool2d_backward",
    "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward", "max_pool1d", "max_pool1d_backward",
    "avg_pool1d", "avg_pool1d_backward", "lp_pool2d", "lp_pool2d_backward", "Layer", "MaxPool",
    "AvgPool", "numerical_gradient", "relative_error",
]
