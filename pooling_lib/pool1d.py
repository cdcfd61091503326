"""1-D max and average pooling: 2-D pooling over planes of height 1.

Shapes: ``x`` is ``(L,)``, ``(C, L)`` or ``(N, C, L)``; outputs keep the leading axes.
``pool_size``, ``stride``, ``padding`` and ``dilation`` are ints (``padding`` may be
``"valid"``/``"same"``); the rules are those of the 2-D functions along one axis.
"""
from . import fast
from .geometry import as_array_of_rank, as_int, as_shape

RANKS_1D = "(L,), (C, L) or (N, C, L)"


def lift(x, name="x"):
    """x (..., L) as (..., 1, L), after checking it has 1 to 3 axes."""
    return as_array_of_rank(x, name, (1, 2, 3), RANKS_1D)[..., None, :]


def settings(pool_size, stride, padding, **more):
    """1-D settings as the (1, n) pairs of 2-D pooling (``dilation`` too, if given)."""
    pairs = dict(pool_size=(1, as_int(pool_size, "pool_size")),
                 stride=None if stride is None else (1, as_int(stride, "stride")),
                 padding=padding if isinstance(padding, str) else (0, as_int(padding, "padding")))
    if "dilation" in more:
        more["dilation"] = (1, as_int(more["dilation"], "dilation"))
    return {**pairs, **more}


def max_pool1d(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling along the last axis. x: (..., L) -> (..., out) [, int64 indices]."""
    result = fast.max_pool2d(lift(x), **settings(pool_size, stride, padding, dilation=dilation,
                                                 ceil_mode=ceil_mode, return_indices=return_indices))
    if isinstance(result, tuple):  # values and indices
        return result[0][..., 0, :], result[1][..., 0, :]
    return result[..., 0, :]


def max_pool1d_backward(grad_output, x, pool_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, ties="first"):
    """Gradient of 1-D max pooling. grad_output: (..., out), x: (..., L) -> (..., L)."""
    return fast.max_pool2d_backward(
        lift(grad_output, "grad_output"), lift(x),
        **settings(pool_size, stride, padding, dilation=dilation, ceil_mode=ceil_mode, ties=ties)
    )[..., 0, :]


def avg_pool1d(x, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling along the last axis. x: (..., L) -> (..., out)."""
    return fast.avg_pool2d(lift(x), **settings(
        pool_size, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
        divisor_override=divisor_override))[..., 0, :]


def avg_pool1d_backward(grad_output, input_shape, pool_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Gradient of 1-D average pooling. grad_output: (..., out) -> input_shape."""
    shape = as_shape(input_shape, (1, 2, 3), RANKS_1D)
    return fast.avg_pool2d_backward(lift(grad_output, "grad_output"), shape[:-1] + (1, shape[-1]), **settings(
        pool_size, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
        divisor_override=divisor_override))[..., 0, :]
