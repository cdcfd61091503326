"""Receptive fields against brute force: put a gradient of 1 on one output cell, send it back
through real layers, and see which input cells receive something."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import pooling_lib as pl
from pooling_lib.receptive_field import (Field, Region, Step, conv, field_sizes, field_working,
                                         footprints, layer_shapes, pool, receptive_field,
                                         receptive_fields)


# --- brute force ---------------------------------------------------------------------------------

def dilated_backward(grad, input_shape, step):
    """The gradient of a convolution whose kernel is all ones, by a loop over the output cells
    and the taps: (oh, ow) -> input_shape."""
    out = np.zeros(input_shape)
    k, s, p, d = step.kernel, step.stride, step.padding, step.dilation
    for i, j in zip(*np.nonzero(grad)):
        for a in range(k):
            for b in range(k):
                r, c = i * s - p + a * d, j * s - p + b * d
                if 0 <= r < input_shape[0] and 0 <= c < input_shape[1]:
                    out[r, c] += grad[i, j]
    return out


def dilated_size(size, step):
    """Output size of a dilated convolution, by counting the windows that fit, each of which must
    hold an input cell (a ValueError if none fits, or if one holds padding only)."""
    k, s, p, d = step.kernel, step.stride, step.padding, step.dilation
    starts = list(range(-p, size + p - d * (k - 1), s))
    if not starts or any(all(not 0 <= a + j * d < size for j in range(k)) for a in starts):
        raise ValueError(f"no output, or a window of padding only: {size} cells, {step}")
    return len(starts)


def forward_shapes(steps, input_shape):
    """Every layer's shape, from pooling_lib's own forward passes (a conv of kernel k, stride s,
    padding p has the windows of a k x k pooling with those settings); with dilation (which
    average pooling has not), by counting windows."""
    shapes, x = [tuple(input_shape)], np.ones(input_shape)
    for step in steps:
        if step.dilation == 1:
            x = pl.avg_pool2d(x, step.kernel, step.stride, step.padding)
        else:
            x = np.ones(tuple(dilated_size(n, step) for n in x.shape))
        shapes.append(x.shape)
    return shapes


def brute_force(steps, cell, input_shape):
    """The cells of every layer that receive a gradient from output ``cell``: boolean masks, the
    input first. Average pooling spreads a positive gradient over every cell of its window, so
    the cells that receive one are exactly the cells the window reads."""
    shapes = forward_shapes(steps, input_shape)
    grad = np.zeros(shapes[-1])
    grad[cell] = 1.0
    masks = [grad > 0]
    for step, shape in zip(reversed(steps), reversed(shapes[:-1])):
        if step.dilation == 1:
            grad = pl.avg_pool2d_backward(grad, shape, step.kernel, step.stride, step.padding)
        else:
            grad = dilated_backward(grad, shape, step)
        masks.append(grad > 0)
    return masks[::-1]


def bounds(mask):
    rows, cols = np.nonzero(mask)
    return Region((rows.min(), rows.max()), (cols.min(), cols.max()))


@st.composite
def stacks(draw, max_steps=4):
    """1 to 4 steps: kernels 1-4, strides 1-3, dilation 1-2, padding up to half the span."""
    steps = []
    for _ in range(draw(st.integers(1, max_steps))):
        k, d = draw(st.integers(1, 4)), draw(st.sampled_from([1, 1, 2]))
        span = d * (k - 1) + 1
        steps.append(Step("step", k, draw(st.integers(1, 3)), draw(st.integers(0, span // 2)), d))
    return steps


def recurrence(kernels_strides):
    """The field of a stack of (kernel, stride) pairs, written out once more: each layer adds
    k - 1 times the distance between neighbouring cells of its input."""
    size, jump = 1, 1
    for k, s in kernels_strides:
        size, jump = size + (k - 1) * jump, jump * s
    return size


# --- against brute force -------------------------------------------------------------------------

@given(steps=stacks(), H=st.integers(1, 24), W=st.integers(1, 24), data=st.data())
def test_the_field_is_what_backpropagation_reaches(steps, H, W, data):
    try:
        shapes = layer_shapes(steps, (H, W))
    except ValueError:
        with pytest.raises(ValueError):  # pooling_lib refuses the same stacks
            forward_shapes(steps, (H, W))
        return
    assert shapes == forward_shapes(steps, (H, W))
    cell = (data.draw(st.integers(0, shapes[-1][0] - 1)), data.draw(st.integers(0, shapes[-1][1] - 1)))
    expected = brute_force(steps, cell, (H, W))
    found = footprints(steps, cell, (H, W))
    for (rows, cols), mask in zip(found, expected):     # every layer, cell for cell (gaps too)
        np.testing.assert_array_equal(np.outer(rows, cols), mask)
    assert receptive_fields(steps, cell, (H, W)) == [bounds(m) for m in expected]
    assert receptive_field(steps, cell, (H, W)) == bounds(expected[0])


@given(steps=stacks())
def test_far_from_the_edges_the_field_is_the_recurrences(steps):
    size = 4 * field_sizes(steps)[-1].size + 40
    out = layer_shapes(steps, (size, size))[-1]
    middle = (out[0] // 2, out[1] // 2)
    region = receptive_field(steps, middle, (size, size))
    assume(region.rows[0] > 0 and region.rows[1] < size - 1)
    assert region.height == region.width == field_sizes(steps)[-1].size
    np.testing.assert_array_equal(brute_force(steps, middle, (size, size))[0].sum(axis=0) > 0,
                                  footprints(steps, middle, (size, size))[0][1])


@given(steps=stacks(max_steps=3), seed=st.integers(0, 2**32 - 1))
def test_max_pooling_sends_its_gradient_inside_the_field(steps, seed):
    """Max pooling's gradient goes to one cell per window, always one the field holds."""
    assume(all(s.padding <= s.kernel // 2 for s in steps))   # max pooling's own padding rule
    size = 3 * field_sizes(steps)[-1].size + 4
    try:
        shapes = layer_shapes(steps, (size, size))
    except ValueError:
        return
    rng = np.random.default_rng(seed)
    xs = [rng.random(shape) for shape in shapes[:-1]]
    cell = (shapes[-1][0] - 1, 0)
    grad = np.zeros(shapes[-1])
    grad[cell] = 1.0
    for step, x in zip(reversed(steps), reversed(xs)):
        grad = pl.max_pool2d_backward(grad, x, step.kernel, step.stride, step.padding, step.dilation)
    rows, cols = footprints(steps, cell, (size, size))[0]
    assert grad.sum() > 0 and not (grad[~np.outer(rows, cols)] != 0).any()


# --- by hand -------------------------------------------------------------------------------------

def test_three_3x3_convolutions_see_7_by_7():
    assert field_sizes([conv(3)] * 3) == [Field(1, 1), Field(3, 1), Field(5, 1), Field(7, 1)]
    assert recurrence([(3, 1)] * 3) == 7
    assert receptive_field([conv(3)] * 3, (0, 0), (16, 16)) == Region((0, 6), (0, 6))


def test_pooling_multiplies_the_jump():
    stack = [conv(3), pool(2), conv(3), pool(2)]
    assert field_sizes(stack)[-1] == Field(recurrence([(3, 1), (2, 2), (3, 1), (2, 2)]), 4) == Field(10, 4)
    assert field_working(stack) == "1 + 2·1 + 1·1 + 2·2 + 1·2 = 10"
    assert field_working([conv(3), conv(3, dilation=2)]) == "1 + 2·1 + 2·2·1 = 7"
    assert receptive_field(stack, (1, 2), (24, 24)) == Region((4, 13), (8, 17))
    # one 2 x 2 pooling between two convolutions: the second one adds 2·2, not 2
    assert field_sizes([conv(3), pool(2), conv(3)])[-1].size == 8 > field_sizes([conv(3)] * 3)[-1].size


def test_dilation_and_padding():
    # dilations 1, 2, 4: 1 + 2 + 4 + 8 = 15, without a gap
    assert field_sizes([conv(3), conv(3, dilation=2), conv(3, dilation=4)])[-1] == Field(15, 1)
    rows, _ = footprints([conv(3, dilation=2)], (0, 0), (5, 5))[0]
    assert rows.tolist() == [True, False, True, False, True]          # one dilated layer: gaps
    # notebook 10's CNN: conv 3x3 with padding 1, 2x2 max pooling; a corner cell is cut by the edge
    digits = [conv(3, padding=1), pool(2)]
    assert field_sizes(digits)[-1].size == 4
    assert receptive_field(digits, (0, 0), (8, 8)) == Region((0, 2), (0, 2))
    assert receptive_field(digits, (1, 2), (8, 8)) == Region((1, 4), (3, 6))
    assert layer_shapes(digits, (8, 8)) == [(8, 8), (8, 8), (4, 4)]


def test_cells_that_no_window_reads_are_not_in_any_field():
    # 5 cells, 2x2 windows at stride 2: the last cell is read by no window
    assert receptive_field([pool(2)], (1, 1), (5, 5)) == Region((2, 3), (2, 3))
    assert layer_shapes([pool(2)], (5, 5))[-1] == (pl.pool_output_size(5, 2),) * 2


def test_names_and_an_empty_stack():
    assert conv(3).name == "conv 3×3" and conv(3, 2).name == "conv 3×3, stride 2"
    assert pool(2).name == "max pool 2×2" and pool(3, 2, mode="avg").name == "avg pool 3×3, stride 2"
    assert pool(2) == Step("max pool 2×2", 2, 2, 0, 1)
    assert field_sizes([]) == [Field(1, 1)]
    assert receptive_field([], (2, 3), (4, 5)) == Region((2, 2), (3, 3))


# --- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, words", [
    (lambda: field_sizes(conv(3)), TypeError, "got a single Step"),
    (lambda: field_sizes("conv"), TypeError, "steps must be a list of Step"),
    (lambda: field_sizes([(3, 1)]), TypeError, "steps[0] must be a Step"),
    (lambda: field_sizes([conv(3), conv(2.0)]), TypeError,
     "steps[1] (conv 2.0×2.0): kernel must be an int, got 2.0"),
    (lambda: field_sizes([conv(3, 0)]), ValueError, "stride must be >= 1, got 0"),
    (lambda: field_sizes([conv(3, dilation=True)]), TypeError, "dilation must be an int, got True"),
    (lambda: field_sizes([conv(3, padding=2)]), ValueError,
     "padding must be at most half the window's span (span // 2 = 1), got padding=2"),
    (lambda: field_sizes([conv(0)]), ValueError, "kernel must be >= 1, got 0"),
    (lambda: receptive_field([conv(3)], (0, 0), (16,)), ValueError,
     "input_shape must have shape (H, W), got shape (16,)"),
    (lambda: receptive_field([conv(3)], (0, 0), 16), TypeError, "input_shape must be a tuple"),
    (lambda: receptive_field([conv(3)], (0, 0), (0, 4)), ValueError, "input_shape must have H, W >= 1"),
    (lambda: receptive_field([conv(3)] * 4, (0, 0), (8, 8)), ValueError,
     "too small for this stack: steps[3] (conv 3×3) gets 2 cells"),
    (lambda: receptive_field([conv(3)], (6, 0), (8, 8)), ValueError,
     "cell must lie in the last layer, of shape (6, 6): rows 0..5 and columns 0..5, got (6, 0)"),
    (lambda: receptive_field([conv(3)], (0, -1), (8, 8)), ValueError, "cell must be >= 0, got -1"),
    (lambda: receptive_field([conv(3)], (0, 1.0), (8, 8)), TypeError, "cell must be an int, got 1.0"),
    (lambda: receptive_field([conv(3)], "ab", (8, 8)), TypeError, "cell must be a pair (row, col), got 'ab'"),
    (lambda: receptive_field([conv(3)], (1, 2, 3), (8, 8)), TypeError, "cell must be a pair"),
])
def test_bad_input_is_refused_by_name(call, error, words):
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)
