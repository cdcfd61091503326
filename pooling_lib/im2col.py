"""im2col pooling: unfold every window into a column, reduce down the columns, fold back.

This is how many early deep-learning codes pooled: ``im2col`` copies the ``K = kh * kw``
cells of each of the ``L = oh * ow`` windows into a ``(K, L)`` matrix per plane, so pooling
becomes a reduction down each column; ``col2im`` adds columns back onto the input grid
(cells shared by overlapping windows add up). Simple, but it copies the input ``K / (sh * sw)``
times; ``pooling_lib.fast`` avoids that copy.

:class:`Im2colMaxPool` and :class:`Im2colAvgPool` are the same as layers (what the course's
benchmark times): the max layer keeps each window's winning row from forward to backward.

Shapes: ``x`` is ``(..., H, W)``; columns are ``(..., K, L)``.
"""
import numpy as np

from ._engine import first_max, first_valid_tap
from .geometry import (as_gradient, as_input, as_shape, check_result, flat_planes, lowest, plan,
                       planes, result_dtype)
from .layers import Layer


def window_index(rows, cols):
    """Row and column of every tap of every window in the padded grid: two (K, L) int arrays,
    plus the padding ``((top, bottom), (left, right))`` that grid needs. Columns of over
    ``MAX_RESULT_BYTES`` are refused before anything is made."""
    check_result((rows.pool * cols.pool, rows.out * cols.out), "pool_size")
    h = rows.starts()[None, :] + (np.arange(rows.pool) * rows.dilation)[:, None]  # (kh, oh)
    w = cols.starts()[None, :] + (np.arange(cols.pool) * cols.dilation)[:, None]  # (kw, ow)
    R = np.broadcast_to(h[:, None, :, None], (rows.pool, cols.pool, rows.out, cols.out))
    C = np.broadcast_to(w[None, :, None, :], R.shape)
    K, L = rows.pool * cols.pool, rows.out * cols.out
    pads = [(ax.pad_before, max(0, int(idx.max()) + 1 - ax.size)) for ax, idx in ((rows, h), (cols, w))]
    return (R.reshape(K, L) + pads[0][0], C.reshape(K, L) + pads[1][0]), pads


def im2col(x, pool_size, stride=None, padding=0, dilation=1, fill=0):
    """Unfold windows into columns. x: (..., H, W) -> (..., K, L); padded cells hold ``fill``."""
    x = as_input(x)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation)
    check_result(x.shape[:-2] + (rows.pool * cols.pool, rows.out * cols.out), "pool_size", x.itemsize)
    (R, C), pads = window_index(rows, cols)
    padded = np.pad(planes(x), [(0, 0)] + pads, constant_values=fill)
    return padded[:, R, C].reshape(x.shape[:-2] + R.shape)


def col2im(columns, input_shape, pool_size, stride=None, padding=0, dilation=1):
    """Fold columns (..., K, L) back onto (*input_shape), adding up shared cells."""
    shape = as_shape(input_shape)
    rows, cols = plan(shape[-2:], pool_size, stride, padding, dilation)
    (R, C), pads = window_index(rows, cols)
    columns = np.asarray(columns).reshape((-1,) + R.shape)
    padded = np.zeros((len(columns), shape[-2] + sum(pads[0]), shape[-1] + sum(pads[1])),
                      columns.dtype)
    np.add.at(padded, (slice(None), R, C), columns)
    (top, _), (left, _) = pads
    return padded[:, top:top + shape[-2], left:left + shape[-1]].reshape(shape)


def winning_rows(x, pool_size, stride, padding, dilation):
    """The columns of x and, for each, the row (tap) of its winner: first maximum, last NaN,
    never a padded cell. Returns columns (P, K, L) and winners (P, L)."""
    columns = planes(im2col(x, pool_size, stride, padding, dilation, fill=lowest(x.dtype)))
    P, K, L = columns.shape
    win = first_max(columns.transpose(0, 2, 1).reshape(-1, K)).reshape(P, L)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation)
    valid = (rows.tap_valid().T[:, None, :, None] & cols.tap_valid().T[None, :, None, :]).reshape(K, L)
    first = first_valid_tap(rows, cols).reshape(L)
    win = np.where(valid[win, np.arange(L)], win, first)  # all cells at the lowest value: first real one
    return columns, win


def max_with_winners(x, pool_size, stride=None, padding=0, dilation=1):
    """Max pooling through im2col, and where each maximum was: x (..., H, W) -> out (..., oh, ow)
    and the winning row of every column, (P, L)."""
    columns, win = winning_rows(x, pool_size, stride, padding, dilation)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation)
    out = np.take_along_axis(columns, win[:, None, :], axis=1)
    return out.reshape(x.shape[:-2] + (rows.out, cols.out)), win


def to_winners(grad, win, input_shape, pool_size, stride=None, padding=0, dilation=1):
    """Gradient of max pooling through im2col: a one-hot column per window, folded back.
    grad: (..., oh, ow), a checked gradient; win: (P, L) from :func:`max_with_winners`
    -> (*input_shape)."""
    g = flat_planes(planes(grad))  # (P, L)
    rows, cols = plan(input_shape[-2:], pool_size, stride, padding, dilation)
    grad_columns = np.zeros((len(g), rows.pool * cols.pool, g.shape[1]), result_dtype(g.dtype))
    np.put_along_axis(grad_columns, win[:, None, :], g[:, None, :], axis=1)
    return col2im(grad_columns, input_shape, pool_size, stride, padding, dilation)


def max_pool2d(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling through im2col. x: (..., H, W) -> (..., oh, ow)."""
    if ceil_mode:
        raise ValueError("the im2col version supports ceil_mode=False only")
    return max_with_winners(as_input(x), pool_size, stride, padding, dilation)[0]


def max_pool2d_backward(grad_output, x, pool_size, stride=None, padding=0, dilation=1):
    """Gradient of max pooling through im2col: a one-hot column per window, folded back."""
    x = as_input(x)
    out, win = max_with_winners(x, pool_size, stride, padding, dilation)
    g = as_gradient(grad_output, out.shape)
    return to_winners(g, win, x.shape, pool_size, stride, padding, dilation)


def avg_pool2d(x, pool_size, stride=None, padding=0):
    """Average pooling through im2col (padding counted, as ``count_include_pad=True``)."""
    x = as_input(x)
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding)
    mean = im2col(x, pool_size, stride, padding).mean(axis=-2)
    return mean.reshape(x.shape[:-2] + (rows.out, cols.out))


def avg_pool2d_backward(grad_output, input_shape, pool_size, stride=None, padding=0):
    """Gradient of average pooling through im2col: every column gets grad / K."""
    shape = as_shape(input_shape)
    rows, cols = plan(shape[-2:], pool_size, stride, padding)
    K = rows.pool * cols.pool
    g = planes(as_gradient(grad_output, shape[:-2] + (rows.out, cols.out))) / K
    grad_columns = np.broadcast_to(flat_planes(g)[:, None, :], (len(g), K, rows.out * cols.out))
    return col2im(grad_columns, shape, pool_size, stride, padding)


class Im2colMaxPool(Layer):
    """Max pooling through im2col as a layer; forward keeps the winners for backward.
    forward: (..., H, W) -> (..., oh, ow); backward: the reverse."""

    def __init__(self, pool_size, stride=None, padding=0, dilation=1):
        super().__init__()
        self.settings = dict(pool_size=pool_size, stride=stride, padding=padding, dilation=dilation)

    def forward(self, input):
        self.input = as_input(input)
        self.output, self.win = max_with_winners(self.input, **self.settings)
        return self.output

    def backward(self, output_gradient, learning_rate=None):
        return to_winners(self._output_gradient(output_gradient), self.win, self.input.shape,
                          **self.settings)


class Im2colAvgPool(Layer):
    """Average pooling through im2col as a layer (padding counted).
    forward: (..., H, W) -> (..., oh, ow); backward: the reverse."""

    def __init__(self, pool_size, stride=None, padding=0):
        super().__init__()
        self.settings = dict(pool_size=pool_size, stride=stride, padding=padding)

    def forward(self, input):
        self.input = as_input(input)
        self.output = avg_pool2d(self.input, **self.settings)
        return self.output

    def backward(self, output_gradient, learning_rate=None):
        return avg_pool2d_backward(self._output_gradient(output_gradient), self.input.shape,
                                   **self.settings)
