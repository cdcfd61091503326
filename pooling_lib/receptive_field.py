"""Receptive fields: which input cells one output cell of a stack of layers depends on.

A stack is a sequence of :class:`Step` s, convolutions and poolings alike: for where the
windows go, a k x k convolution and a k x k pooling with the same stride, padding and dilation
are the same (docs/semantics.md, "Output size"). Everything works one axis at a time; a square
kernel acts on the rows and the columns alike.

- :func:`field_sizes`: the textbook recurrence, far from any edge: every step adds
  ``(kernel - 1) * dilation * jump`` input cells to the field, and multiplies the jump (the
  distance, in input cells, between two neighbouring cells of a layer) by its stride;
  :func:`field_working` writes it out with the numbers put in.
- :func:`layer_shapes`: the shape of every layer for an input of ``(H, W)``, by pooling_lib's
  own output-size rule.
- :func:`footprints` and :func:`receptive_field`: the cells that one output cell depends on in
  every layer, worked out window by window, so the edges (padding is not input) and the cells
  that no window reads are taken into account.

    >>> stack = [conv(3), pool(2), conv(3), pool(2)]
    >>> field_sizes(stack)[-1]
    Field(size=10, jump=4)
    >>> receptive_field(stack, (1, 2), (24, 24))
    Region(rows=(4, 13), cols=(8, 17))
"""
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .geometry import as_int, as_shape, axis, formula_size

TIMES = "\u00d7"


class Step(NamedTuple):
    """One layer of a stack, seen from its windows: a ``kernel`` x ``kernel`` window moved by
    ``stride`` over the input with ``padding`` cells added on every side; its taps are
    ``dilation`` cells apart. ``name`` is what pictures and messages call it ("conv 3×3")."""

    name: str
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    @property
    def span(self):
        """Input cells from a window's first tap to its last: ``dilation * (kernel - 1) + 1``."""
        return self.dilation * (self.kernel - 1) + 1


def _details(stride, padding, dilation, default_stride):
    words = [f"stride {stride}" if stride != default_stride else "",
             f"padding {padding}" if padding else "", f"dilation {dilation}" if dilation != 1 else ""]
    return ", ".join(w for w in words if w)


def conv(kernel, stride=1, padding=0, dilation=1):
    """A ``kernel`` x ``kernel`` convolution as a :class:`Step`, named e.g. "conv 3×3, stride 2"."""
    details = _details(stride, padding, dilation, 1)
    name = f"conv {kernel}{TIMES}{kernel}" + (f", {details}" if details else "")
    return Step(name, kernel, stride, padding, dilation)


def pool(kernel, stride=None, padding=0, mode="max"):
    """A ``kernel`` x ``kernel`` pooling as a :class:`Step` (stride: the kernel, as in
    pooling_lib), named e.g. "max pool 2×2"."""
    stride = kernel if stride is None else stride
    details = _details(stride, padding, 1, kernel)
    name = f"{mode} pool {kernel}{TIMES}{kernel}" + (f", {details}" if details else "")
    return Step(name, kernel, stride, padding)


class Field(NamedTuple):
    """The receptive field of one cell of a layer, far from the edges: ``size`` x ``size`` input
    cells; neighbouring cells of the layer are ``jump`` input cells apart."""

    size: int
    jump: int


class Region(NamedTuple):
    """Rows ``(first, last)`` and columns ``(first, last)`` of a layer, both ends included."""

    rows: tuple
    cols: tuple

    @property
    def height(self):
        return self.rows[1] - self.rows[0] + 1

    @property
    def width(self):
        return self.cols[1] - self.cols[0] + 1


def check_steps(steps):
    """``steps`` as a tuple of :class:`Step` of checked ints; a ``TypeError`` / ``ValueError``
    naming the step and the setting otherwise. Padding may be at most half a window's span
    (``span // 2``), so that every window holds some input (pooling_lib's rule for pools)."""
    if isinstance(steps, Step):
        raise TypeError(f"steps must be a list of Step, got a single Step ({steps.name}): put "
                        "it in a list, [step]")
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise TypeError(f"steps must be a list of Step, got {steps!r}")
    checked = []
    for k, step in enumerate(steps):
        if not isinstance(step, Step):
            raise TypeError(f"steps[{k}] must be a Step (e.g. conv(3) or pool(2)), got {step!r}")
        where = f"steps[{k}] ({step.name})"
        kernel = as_int(step.kernel, f"{where}: kernel", 1)
        stride = as_int(step.stride, f"{where}: stride", 1)
        padding = as_int(step.padding, f"{where}: padding", 0)
        dilation = as_int(step.dilation, f"{where}: dilation", 1)
        step = Step(str(step.name), kernel, stride, padding, dilation)
        if padding > step.span // 2:
            raise ValueError(f"{where}: padding must be at most half the window's span "
                             f"(span // 2 = {step.span // 2}), got padding={padding}")
        checked.append(step)
    return tuple(checked)


def field_sizes(steps):
    """The recurrence, far from the edges: ``[Field(1, 1), ...]``, one :class:`Field` per layer,
    the input first (``len(steps) + 1`` of them). Step ``k`` gives

        size_out = size_in + (kernel - 1) * dilation * jump_in,   jump_out = jump_in * stride.

    Padding moves the field, it does not change its size."""
    fields = [Field(1, 1)]
    for step in check_steps(steps):
        size, jump = fields[-1]
        fields.append(Field(size + (step.kernel - 1) * step.dilation * jump, jump * step.stride))
    return fields


def field_working(steps):
    """The recurrence with the numbers put in, as text: ``"1 + 2·1 + 1·1 + 2·2 + 1·2 = 10"``,
    one term ``(kernel - 1)·jump`` per step (``(kernel - 1)·dilation·jump`` when dilated)."""
    steps = check_steps(steps)
    fields = field_sizes(steps)
    terms = [f"{s.kernel - 1}·{s.dilation}·{f.jump}" if s.dilation > 1 else f"{s.kernel - 1}·{f.jump}"
             for s, f in zip(steps, fields)]
    return " + ".join(["1", *terms]) + f" = {fields[-1].size}"


def _input_shape(input_shape):
    shape = as_shape(input_shape, ranks=(2,), shapes="(H, W)")
    if min(shape) < 1:
        raise ValueError(f"input_shape must have H, W >= 1, got {shape}")
    return shape


def _axes(steps, size):
    """pooling_lib's :class:`~pooling_lib.geometry.Axis` of every step along an axis of ``size``
    input cells (checked steps)."""
    axes = []
    for k, step in enumerate(steps):
        out = formula_size(size, step.kernel, step.stride, step.padding, step.dilation, False)
        if out < 1:
            raise ValueError(
                f"the input is too small for this stack: steps[{k}] ({step.name}) gets {size} "
                f"cells, and its window spans {step.span} (with padding {step.padding}): no "
                "output cell")
        try:
            axes.append(axis(size, step.kernel, step.stride, step.padding, step.dilation, False))
        except ValueError as error:
            raise ValueError(f"steps[{k}] ({step.name}): {error}") from None
        size = out
    return axes


def layer_shapes(steps, input_shape):
    """The ``(H, W)`` of every layer, the input first: ``len(steps) + 1`` shapes, by pooling_lib's
    output-size rule, ``floor((L + 2P - dilation * (kernel - 1) - 1) / stride) + 1``."""
    steps, (H, W) = check_steps(steps), _input_shape(input_shape)
    rows, cols = _axes(steps, H), _axes(steps, W)
    return [(H, W)] + [(r.out, c.out) for r, c in zip(rows, cols)]


def _read_by(ax, cells):
    """The input cells that the windows ``cells`` (a boolean mask, shape ``(out,)``) of ``ax``
    read, padding left out: a boolean mask, shape ``(size,)``."""
    taps = ax.starts()[cells][:, None] + np.arange(ax.pool) * ax.dilation  # (windows, kernel)
    read = np.zeros(ax.size, dtype=bool)
    read[taps[(taps >= 0) & (taps < ax.size)]] = True
    return read


def _check_cell(cell, shape):
    if isinstance(cell, (str, bytes)) or not isinstance(cell, (Sequence, np.ndarray)) or len(cell) != 2:
        raise TypeError(f"cell must be a pair (row, col), got {cell!r}")
    row, col = (as_int(v, "cell", 0) for v in cell)
    if row >= shape[0] or col >= shape[1]:
        raise ValueError(f"cell must lie in the last layer, of shape {shape}: rows 0..{shape[0] - 1} "
                         f"and columns 0..{shape[1] - 1}, got {tuple(cell)}")
    return row, col


def footprints(steps, cell, input_shape):
    """Which cells of every layer output ``cell = (row, col)`` of the last layer depends on:
    one ``(rows, cols)`` pair of boolean masks per layer, shapes ``(H_k,)`` and ``(W_k,)``, the
    input first and the cell itself last. Cell ``(i, j)`` of layer ``k`` is in the footprint
    when ``rows[i] and cols[j]``. With dilation a footprint may have gaps."""
    steps, (H, W) = check_steps(steps), _input_shape(input_shape)
    rows, cols = _axes(steps, H), _axes(steps, W)
    last = (rows[-1].out, cols[-1].out) if steps else (H, W)
    row, col = _check_cell(cell, last)
    masks = [(np.arange(last[0]) == row, np.arange(last[1]) == col)]
    for r, c in zip(reversed(rows), reversed(cols)):  # back from the output to the input
        masks.append((_read_by(r, masks[-1][0]), _read_by(c, masks[-1][1])))
    return masks[::-1]


def _bounds(mask):
    found = np.flatnonzero(mask)
    return int(found[0]), int(found[-1])


def receptive_fields(steps, cell, input_shape):
    """The :class:`Region` that output ``cell`` of the last layer depends on, in every layer: the
    input first, the cell itself last (``len(steps) + 1`` regions). Regions stop at the edges
    of their layer: padding is not input."""
    return [Region(_bounds(rows), _bounds(cols))
            for rows, cols in footprints(steps, cell, input_shape)]


def receptive_field(steps, cell, input_shape):
    """The :class:`Region` of the input of shape ``(H, W)`` that output ``cell = (row, col)`` of
    the last layer of ``steps`` depends on: ``Region(rows=(first, last), cols=(first, last))``."""
    return receptive_fields(steps, cell, input_shape)[0]
