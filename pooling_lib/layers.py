"""Pooling as layers with ``forward(input)`` and ``backward(output_gradient, learning_rate)``.

The same ``Layer`` interface as the popular "neural network from scratch" tutorials, so a
pooling layer drops into a network built that way. Pooling has no parameters: the learning
rate is accepted and unused. A layer remembers what its backward pass needs from the last
forward pass (for max pooling, which tap won each window), so it searches the windows once.

Inputs: ``(H, W)``, ``(C, H, W)`` samples or ``(N, C, H, W)`` batches.

:data:`MODES` maps the name of a pooling mode, ``"max"`` or ``"avg"``, to its functions and
its layer: code that lets you choose the mode looks it up there.
"""
from typing import NamedTuple

import numpy as np

from . import fast
from .geometry import as_bool, as_gradient, as_input, avg_plan, check_settings, check_ties, plan


POOL_DEFAULTS = dict(stride=None, padding=0, dilation=1, ceil_mode=False, count_include_pad=True,
                     divisor_override=None, ties="first")


def plain(value):
    """A setting as plain Python values, to show and compare: NumPy ints, bools and arrays
    become ints, bools and lists."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return type(value)(map(plain, value))
    return value


class Layer:
    """Base class: ``forward`` maps input to output, ``backward`` maps d(loss)/d(output) to
    d(loss)/d(input) and updates any parameters with ``learning_rate``."""

    def __init__(self):
        self.input = None
        self.output = None

    def forward(self, input):
        raise NotImplementedError

    def backward(self, output_gradient, learning_rate=None):
        raise NotImplementedError

    def __repr__(self):
        """The class and the settings that differ from the defaults, e.g. ``MaxPool(pool_size=2)``."""
        settings = {**getattr(self, "settings", {}), "ties": getattr(self, "ties", "first")}
        shown = ", ".join(f"{k}={plain(v)!r}" for k, v in settings.items()
                          if k not in POOL_DEFAULTS or plain(v) != POOL_DEFAULTS[k])
        return f"{type(self).__name__}({shown})"

    def _output_gradient(self, output_gradient):
        """``output_gradient`` checked against the output of the last forward pass."""
        if self.output is None:
            raise ValueError(f"{type(self).__name__}.backward was called before forward: "
                             "run forward(input) first")
        return as_gradient(output_gradient, self.output.shape)


class Remembered(NamedTuple):
    """What a pooling layer's backward pass needs from its last successful forward pass."""
    input: np.ndarray     # (..., H, W); for max pooling with ties "split"/"all", a private copy
    output: np.ndarray    # (..., oh, ow); the same
    plan: tuple           # the two Axis (and, for average pooling, the divisor)
    winners: object = None


class Pool(Layer):
    """What max and average pooling layers share: settings checked when the layer is built,
    and a forward pass that changes the layer only once it has succeeded.

    A layer remembers its last forward pass for the next backward pass, so one layer is not
    for several threads at once: give each thread its own layer (they are cheap; the functions
    of ``pooling_lib`` are safe from any thread)."""

    def __init__(self):
        super().__init__()
        self._last = None

    def _plan(self, x):
        """The checked settings for an input ``x`` (..., H, W), kept while its planes keep their shape."""
        known = getattr(self, "_planned", None)
        if known is None or known[0] != x.shape[-2:]:
            known = self._planned = (x.shape[-2:], self._check_settings(x.shape))
        return known[1]

    def _remember(self, x, out, checked, winners=None, private=False):
        """Keep what backward needs, all at once, and return ``out``. ``private``: backward reads
        x and out again, so keep copies the caller cannot change."""
        self._last = Remembered(x.copy() if private else x, out.copy() if private else out,
                                checked, winners)
        self.input, self.output = x, out
        return out

    def _output_gradient(self, output_gradient):
        if self._last is None:
            raise ValueError(f"{type(self).__name__}.backward was called before forward: "
                             "run forward(input) first")
        return self._last, as_gradient(output_gradient, self._last.output.shape)


class MaxPool(Pool):
    """Max pooling layer. forward: (..., H, W) -> (..., oh, ow); backward: the reverse.
    One layer per thread: it remembers its last forward pass (see :class:`Pool`)."""

    def __init__(self, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 ties="first"):
        super().__init__()
        check_settings(pool_size, stride, padding, dilation, ceil_mode)
        self.settings = dict(pool_size=pool_size, stride=stride, padding=padding,
                             dilation=dilation, ceil_mode=ceil_mode)
        self.ties = check_ties(ties)

    def _check_settings(self, shape):
        return plan(shape[-2:], **self.settings)

    def forward(self, input):
        x = as_input(input)
        rows, cols = self._plan(x)
        # the winners found here serve backward too: the windows are searched once
        out, winners = fast.max_search(x, rows, cols, self.ties)
        return self._remember(x, out, (rows, cols), winners, private=self.ties in ("split", "all"))

    def backward(self, output_gradient, learning_rate=None):
        last, g = self._output_gradient(output_gradient)
        rows, cols = last.plan
        if self.ties in ("split", "all"):
            return fast.max_share(g, last.input, last.output, rows, cols, self.ties)
        return fast.max_route(g, last.winners, rows, cols, last.input.shape)


class AvgPool(Pool):
    """Average pooling layer. forward: (..., H, W) -> (..., oh, ow); backward: the reverse.
    One layer per thread: it remembers its last forward pass (see :class:`Pool`)."""

    def __init__(self, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        check_settings(pool_size, stride, padding, 1, ceil_mode)
        self.settings = dict(pool_size=pool_size, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                             divisor_override=None)
        as_bool(count_include_pad, "count_include_pad")

    def _check_settings(self, shape):
        return avg_plan(shape, **self.settings)

    def forward(self, input):
        x = as_input(input)
        rows, cols, divisor = checked = self._plan(x)
        return self._remember(x, fast.avg_forward(x, rows, cols, divisor), checked)

    def backward(self, output_gradient, learning_rate=None):
        last, g = self._output_gradient(output_gradient)
        return fast.avg_backward(g, *last.plan, last.input.shape)


class Mode(NamedTuple):
    """One pooling mode: its forward and backward functions and its layer class."""
    forward: object   # (x, pool_size, stride=None, padding=0, ...) -> (..., oh, ow)
    backward: object  # max: (grad_output, x, ...); avg: (grad_output, input_shape, ...)
    layer: type


MODES = {"max": Mode(fast.max_pool2d, fast.max_pool2d_backward, MaxPool),
         "avg": Mode(fast.avg_pool2d, fast.avg_pool2d_backward, AvgPool)}
