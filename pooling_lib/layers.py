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

from . import fast
from .geometry import as_gradient, as_input, avg_plan, check_ties, plan


POOL_DEFAULTS = dict(stride=None, padding=0, dilation=1, ceil_mode=False, count_include_pad=True,
                     divisor_override=None, ties="first")


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
        shown = ", ".join(f"{k}={v!r}" for k, v in settings.items()
                          if k not in POOL_DEFAULTS or v != POOL_DEFAULTS[k])
        return f"{type(self).__name__}({shown})"

    def _keep_input(self, input):
        """Keep ``input`` (checked) for the backward pass, and return the layer's settings
        checked for its shape (``self._check_settings(shape)``, run again only when the plane
        shape (H, W) changes)."""
        self.input = as_input(input)
        if self.input.shape[-2:] != getattr(self, "plane_shape", None):
            self.checked_settings = self._check_settings(self.input.shape)
            self.plane_shape = self.input.shape[-2:]
        return self.checked_settings

    def _output_gradient(self, output_gradient):
        """``output_gradient`` checked against the output of the last forward pass."""
        if self.output is None:
            raise ValueError(f"{type(self).__name__}.backward was called before forward: "
                             "run forward(input) first")
        return as_gradient(output_gradient, self.output.shape)


class MaxPool(Layer):
    """Max pooling layer. forward: (..., H, W) -> (..., oh, ow); backward: the reverse."""

    def __init__(self, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 ties="first"):
        super().__init__()
        self.settings = dict(pool_size=pool_size, stride=stride, padding=padding,
                             dilation=dilation, ceil_mode=ceil_mode)
        self.ties = check_ties(ties)

    def _check_settings(self, shape):
        return plan(shape[-2:], **self.settings)

    def forward(self, input):
        self.rows, self.cols = self._keep_input(input)
        # the winners found here serve backward too: the windows are searched once
        self.output, self.winners = fast.max_search(self.input, self.rows, self.cols, self.ties)
        return self.output

    def backward(self, output_gradient, learning_rate=None):
        g = self._output_gradient(output_gradient)
        if self.ties in ("split", "all"):
            return fast.max_share(g, self.input, self.output, self.rows, self.cols, self.ties)
        return fast.max_route(g, self.winners, self.rows, self.cols, self.input.shape)


class AvgPool(Layer):
    """Average pooling layer. forward: (..., H, W) -> (..., oh, ow); backward: the reverse."""

    def __init__(self, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.settings = dict(pool_size=pool_size, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                             divisor_override=None)

    def _check_settings(self, shape):
        return avg_plan(shape, **self.settings)

    def forward(self, input):
        self.rows, self.cols, self.divisor = self._keep_input(input)
        self.output = fast.avg_forward(self.input, self.rows, self.cols, self.divisor)
        return self.output

    def backward(self, output_gradient, learning_rate=None):
        return fast.avg_backward(self._output_gradient(output_gradient), self.rows, self.cols,
                                 self.divisor, self.input.shape)


class Mode(NamedTuple):
    """One pooling mode: its forward and backward functions and its layer class."""
    forward: object   # (x, pool_size, stride=None, padding=0, ...) -> (..., oh, ow)
    backward: object  # max: (grad_output, x, ...); avg: (grad_output, input_shape, ...)
    layer: type


MODES = {"max": Mode(fast.max_pool2d, fast.max_pool2d_backward, MaxPool),
         "avg": Mode(fast.avg_pool2d, fast.avg_pool2d_backward, AvgPool)}
