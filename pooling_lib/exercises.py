"""Instant feedback for the "your turn" cells of the notebooks.

Every ``check_...`` function returns a :class:`Feedback`: it shows as one line saying that the
answer is right (and why), or what exactly is wrong with it, and it is truthy only when right.
An answer left as ``...`` gets a reminder, not an error.
"""
import math

import numpy as np

from . import fast
from .geometry import plan


class Feedback:
    """The verdict on an answer: ``ok`` and a sentence for the student."""

    def __init__(self, ok, text):
        self.ok, self.text = bool(ok), text

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return ("✅ " if self.ok else "❌ ") + self.text


def right(text):
    return Feedback(True, text)


def wrong(text):
    return Feedback(False, text)


TODO = Feedback(False, "Not answered yet: replace the ... with your answer and run the cell again.")


def unanswered(answer):
    return answer is None or answer is Ellipsis


# --- sizes -----------------------------------------------------------------------------------

def output_size_working(size, pool_size, stride, padding=0, dilation=1, ceil_mode=False):
    """The output-size formula with the numbers put in, e.g. ``floor((6 − 3) / 1) + 1 = 4``."""
    stride = pool_size if stride is None else stride
    out = plan((size, size), pool_size, stride, padding, dilation, ceil_mode)[0].out
    if padding == "same":
        return f"'same' padding: ceil({size} / {stride}) = {out}"
    eff = f"({dilation}·({pool_size} − 1) + 1)" if dilation > 1 else f"{pool_size}"
    pad = f" + 2·{padding}" if padding not in (0, "valid") else ""
    rounding = "ceil" if ceil_mode else "floor"
    formula = f"{rounding}(({size}{pad} − {eff}) / {stride}) + 1"
    span = size + 2 * (padding if pad else 0) - (dilation * (pool_size - 1) + 1)
    if ceil_mode and -(-span // stride) + 1 > out:  # SPEC's rule dropped the last window
        return f"{formula} = {out + 1}, minus the last window, which would start past the input: {out}"
    return f"{formula} = {out}"


def _size_mistakes(size, pool, stride, padding, dilation, ceil_mode):
    """(wrong answer, what it tells) for the usual slips in the output-size formula."""
    eff = dilation * (pool - 1) + 1
    span = size + 2 * padding - eff
    down, up = span // stride + 1, -(-span // stride) + 1
    return [
        (span // stride, "You left out the + 1: the first window counts too, before any stride."),
        (up if not ceil_mode else down,
         "Check the rounding: a window that would stick out past the input is dropped (floor)."
         if not ceil_mode else "With ceil_mode the last, partial window is kept: round up."),
        ((size - eff) // stride + 1, "Padding adds P cells on both sides: use L + 2P."),
        ((size + 2 * padding - pool) // stride + 1,
         f"A dilated window spans d·(F − 1) + 1 = {eff} cells, not {pool}."),
        (size // stride, "Divide the distance the window can travel (L − F), not the whole L."),
    ]


def check_output_size(answer, size, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Is ``answer`` the number of windows along an axis of ``size`` cells?"""
    if unanswered(answer):
        return TODO
    stride = pool_size if stride is None else stride
    if not isinstance(answer, (int, np.integer)) or isinstance(answer, bool):
        return wrong(f"Give a whole number of windows, not {answer!r}.")
    expected = plan((size, size), pool_size, stride, padding, dilation, ceil_mode)[0].out
    working = output_size_working(size, pool_size, stride, padding, dilation, ceil_mode)
    if answer == expected:
        return right(f"{answer} windows: {working}.")
    if padding == "same":
        return wrong(f"{answer} is not it. With 'same' padding, out = ceil(L / S).")
    if not isinstance(padding, str):
        for value, hint in _size_mistakes(size, pool_size, stride, padding, dilation, ceil_mode):
            if answer == value != expected:
                return wrong(f"{answer} is not it. {hint}")
    if ceil_mode:
        return wrong(f"{answer} is not it. Use out = ceil((L + 2P − d·(F − 1) − 1) / S) + 1, and drop "
                     "the last window if it would start past the input and the left padding.")
    return wrong(f"{answer} is not it. Use out = floor((L + 2P − d·(F − 1) − 1) / S) + 1.")


def check_pool_count(answer, size, pool_size, stride=None):
    """Is ``answer`` the number of pools (windows) over a ``size`` x ``size`` input?"""
    if unanswered(answer):
        return TODO
    per_axis = plan((size, size), pool_size, stride)[0].out
    if answer == per_axis ** 2:
        return right(f"{per_axis} windows across × {per_axis} down = {answer} pools.")
    if answer == per_axis:
        return wrong(f"{answer} is the count along one row; the windows also move down: "
                     "rows × columns.")
    return wrong(f"{answer} is not it. Count the positions along one axis first "
                 f"(floor((L − F) / S) + 1), then multiply by the other axis.")


# --- values ----------------------------------------------------------------------------------

def check_pooled(answer, x, pool_size, stride=None, mode="max"):
    """Is ``answer`` the max (``mode="max"``) or average (``"avg"``) pooling of ``x`` (H, W)?"""
    if unanswered(answer):
        return TODO
    x = np.asarray(x)
    pool = fast.max_pool2d if mode == "max" else fast.avg_pool2d
    other = fast.avg_pool2d if mode == "max" else fast.max_pool2d
    expected = pool(x, pool_size, stride)
    try:
        answer = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return wrong("Write your answer as a list of rows, like [[1, 2], [3, 4]].")
    if answer.shape != expected.shape:
        return wrong(f"Your answer has shape {answer.shape}, the output has shape {expected.shape}: "
                     f"count the windows along each axis.")
    if np.allclose(answer, expected):
        return right(f"That is the {'maximum' if mode == 'max' else 'average'} of every window.")
    if np.allclose(answer, other(x, pool_size, stride)):
        return wrong("Those are the " + ("averages" if mode == "max" else "maxima") +
                     " of the windows; this one asks for the " +
                     ("largest value." if mode == "max" else "mean value."))
    i, j = np.argwhere(~np.isclose(answer, expected))[0]
    return wrong(f"Output cell ({i}, {j}) should be {expected[i, j]:g}, you have {answer[i, j]:g}. "
                 f"Which input cells does window ({i}, {j}) cover?")


# --- code ------------------------------------------------------------------------------------

CASES = [  # (input shape, pool, stride): one channel, channels, a batch, overlaps, leftovers
    ((4, 4), 2, 2), ((5, 5), 3, 1), ((3, 6, 6), 2, 2), ((2, 3, 5, 7), 3, 2), ((2, 2, 7, 7), 2, 3),
]


def cases(seed=0):
    """Test inputs with distinct values (so the winner of every window is unambiguous)."""
    rng = np.random.default_rng(seed)
    for shape, pool, stride in CASES:
        yield rng.permutation(math.prod(shape)).reshape(shape).astype(float), pool, stride


def _call(student, x, pool, stride, grad=None):
    """Run a student's function ``f(x, pool, stride)`` / ``f(grad, x, pool, stride)`` or a layer
    class ``C(pool, stride)`` with ``forward`` / ``backward``."""
    if isinstance(student, type):
        layer = student(pool, stride)
        out = layer.forward(x)
        return out if grad is None else layer.backward(grad, 0.0)
    return student(x, pool, stride) if grad is None else student(grad, x, pool, stride)


def _first_difference(result, expected, name):
    result = np.asarray(result)
    if result.shape != expected.shape:
        return f"{name} has shape {result.shape}, expected {expected.shape}"
    bad = np.argwhere(~np.isclose(result, expected))
    if len(bad):
        where = tuple(int(i) for i in bad[0])
        return f"{name}{list(where)} is {result[where]:g}, expected {expected[where]:g}"
    return None


def check_forward(student, mode="max"):
    """Does the student's forward pass (function or layer class) match ``pooling_lib``?"""
    if unanswered(student):
        return TODO
    reference = fast.max_pool2d if mode == "max" else fast.avg_pool2d
    for x, pool, stride in cases():
        try:
            result = _call(student, x, pool, stride)
        except Exception as error:  # the student's code: report, never crash the notebook
            return wrong(f"On an input of shape {x.shape} (pool {pool}, stride {stride}) your code "
                         f"raised {type(error).__name__}: {error}")
        if unanswered(result):  # a stub whose body is still ``...``
            return TODO
        problem = _first_difference(result, reference(x, pool, stride), "output")
        if problem:
            return wrong(f"On an input of shape {x.shape} with pool {pool}, stride {stride}: {problem}.")
    return right(f"Your forward pass matches pooling_lib on {len(CASES)} inputs: one channel, "
                 "several channels, a batch, overlapping windows and leftover edges.")


def assigned_max_backward(grad, x, pool, stride):
    """The classic bug: ``grad_input[winner] = grad`` instead of ``+=`` (overlaps overwrite)."""
    out, idx = fast.max_pool2d(x, pool, stride, return_indices=True)
    gi = np.zeros(fast.planes(x).shape)
    flat = gi.reshape(len(gi), -1)
    for p, cells in enumerate(fast.planes(idx)):
        for cell, g in zip(cells.ravel(), fast.planes(grad)[p].ravel()):
            flat[p, cell] = g
    return gi.reshape(x.shape)


def check_backward(student, mode="max"):
    """Does the student's backward pass (function or layer class) match ``pooling_lib``?"""
    if unanswered(student):
        return TODO
    for x, pool, stride in cases(seed=1):
        grad = np.ones(fast.max_pool2d(x, pool, stride).shape)
        if mode == "max":
            expected = fast.max_pool2d_backward(grad, x, pool, stride)
        else:
            expected = fast.avg_pool2d_backward(grad, x.shape, pool, stride)
        try:
            result = _call(student, x, pool, stride, grad)
        except Exception as error:
            return wrong(f"On an input of shape {x.shape} (pool {pool}, stride {stride}) your code "
                         f"raised {type(error).__name__}: {error}")
        if unanswered(result):
            return TODO
        problem = _first_difference(result, expected, "grad_input")
        if problem is None:
            continue
        if mode == "max" and np.allclose(result, assigned_max_backward(grad, x, pool, stride)):
            return wrong(f"With pool {pool} and stride {stride} the windows overlap and some cells "
                         "win several of them, but each win overwrote the last: use += so the "
                         f"gradients add up ({problem}).")
        return wrong(f"On an input of shape {x.shape} with pool {pool}, stride {stride}: {problem}.")
    return right("Your backward pass matches pooling_lib, overlapping windows included.")


def check_gradient_cells(answer, x, pool_size, stride, cell):
    """Is ``answer`` the set of input cells ``(h, w)`` that output ``cell`` sends gradient to?"""
    if unanswered(answer):
        return TODO
    out, idx = fast.max_pool2d(np.asarray(x), pool_size, stride, return_indices=True)
    W = np.asarray(x).shape[-1]
    expected = {divmod(int(idx[tuple(cell)]), W)}
    try:
        given = {tuple(int(v) for v in c) for c in answer}
    except (TypeError, ValueError):
        return wrong("Write your answer as a list of (row, column) pairs, like [(0, 1)].")
    if given == expected:
        return right(f"Only the winner {expected.pop()} gets output {tuple(cell)}'s gradient; "
                     "every other cell of the window gets 0.")
    if len(given) > 1:
        return wrong("Max pooling sends the gradient to one cell only: the window's winner.")
    return wrong(f"{given.pop()} is not the largest value of window {tuple(cell)}.")
