"""Instant feedback for the "your turn" cells of the notebooks.

Every ``check_...`` function returns a :class:`Feedback`: it shows as one line saying that the
answer is right (and why), or what exactly is wrong with it, and it is truthy only when right.
An answer left as ``...`` gets a reminder, not an error.
"""
import math

import numpy as np

from .. import fast
from ..geometry import formula_size, plan
from ..layers import MODES

OTHER_MODE = {"max": "avg", "avg": "max"}  # the mode a student may have mixed up with this one


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
    # with ceil_mode, the last window is dropped when it would start past the input and the left
    # padding (docs/semantics.md, "Output size"): then the formula gives one more than ``out``
    if ceil_mode and formula_size(size, pool_size, stride, padding, dilation, ceil_mode) > out:
        return f"{formula} = {out + 1}, minus the last window, which would start past the input: {out}"
    return f"{formula} = {out}"


def _size_mistakes(size, pool, stride, padding, dilation, ceil_mode):
    """(wrong answer, what it tells) for the usual slips in the output-size formula."""
    eff = dilation * (pool - 1) + 1
    down, up = (formula_size(size, pool, stride, padding, dilation, c) for c in (False, True))
    return [
        (down - 1, "You left out the + 1: the first window counts too, before any stride."),
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
    pool, other = MODES[mode].forward, MODES[OTHER_MODE[mode]].forward
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
    reference = MODES[mode].forward
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


# --- fast pooling (notebook 06) ----------------------------------------------------------------

def check_im2col_size(answer, shape, pool_size, stride=None):
    """Is ``answer`` the number of values in im2col's column matrix for an input of ``shape``
    (..., H, W), without padding? (K cells per window × L windows per plane × the planes.)"""
    if unanswered(answer):
        return TODO
    if not isinstance(answer, (int, np.integer)) or isinstance(answer, bool):
        return wrong(f"Give a whole number of values, not {answer!r}.")
    rows, cols = plan(tuple(shape[-2:]), pool_size, stride)
    planes, size = math.prod(shape[:-2]), math.prod(shape)
    K, L = rows.pool * cols.pool, rows.out * cols.out
    expected = planes * K * L
    if answer == expected:
        return right(f"{expected:,} values: K = {K} cells × L = {rows.out}·{cols.out} = {L} windows "
                     f"× {planes} planes, {expected / size:.1f} times the {size:,} values of the input.")
    naive = planes * K * (rows.size // rows.stride) * (cols.size // cols.stride)
    mistakes = [
        (size, "That is the size of the input itself. The matrix holds a copy of every window: "
               "K cells for each of the L windows."),
        (planes * L, "That is the size of the output, one value per window. Before the reduction "
                     f"each column still holds all K = {K} cells of its window."),
        (K * L, f"That is the matrix of one plane (K × L = {K} × {L}). Each of the "
                f"{planes} planes (samples × channels) gets its own."),
        (planes * K * rows.size * cols.size, "That gives every input cell K copies. Count the "
                                             "windows instead: L = out_h · out_w."),
        (naive, "Count the windows with the output-size formula, floor((L − F) / S) + 1 per axis, "
                "not L / S."),
    ]
    if len(shape) == 4:
        mistakes += [(n * K * L, "Multiply by both the batch size N and the channels C.")
                     for n in (shape[0], shape[1])]
    for value, hint in mistakes:
        if answer == value:
            return wrong(f"{answer:,} is not it. {hint}")
    return wrong(f"{answer:,} is not it. Multiply K (cells per window) by L (windows per plane) "
                 "by the number of planes (N · C).")


# the first case tells the usual mistakes apart (with H // k == k some of them coincide)
RESHAPE_CASES = [((2, 3, 6, 6), 2), ((1, 1, 4, 4), 2), ((2, 2, 6, 9), 3), ((1, 2, 8, 4), 4)]


def _reshape_mistakes(x, k, reduce):
    """(wrong result, what it tells) for the usual slips in the reshape trick."""
    N, C, H, W = x.shape
    return [
        (reduce(x.reshape(N, C, H // k, k, W // k, k), (2, 4)),
         "You reduced axes 2 and 4, which count the windows. Reduce axes 3 and 5: the k cells "
         "inside each window."),
        (reduce(x.reshape(N, C, k, H // k, k, W // k), (2, 4)),
         "Your windows are spread out: reshape(N, C, k, H // k, ...) puts the k cells of a window "
         "H // k rows apart. Split H into (H // k, k): window number first, cell inside it second."),
        (reduce(x.reshape(N, C, H // k, W // k, k, k), (4, 5)),
         "reshape keeps the cells in order, so (H, W) can only split into (H // k, k, W // k, k); "
         "(H // k, W // k, k, k) mixes rows of one window with columns of others."),
    ]


def check_reshape_pool(student, mode="max"):
    """Does ``student(x, k)`` pool an (N, C, H, W) input with k × k windows at stride k (H and W
    multiples of k) like ``pooling_lib``? ``mode``: "max" or "avg"."""
    if unanswered(student):
        return TODO
    rng = np.random.default_rng(0)
    pool, other = MODES[mode].forward, MODES[OTHER_MODE[mode]].forward
    reduce = (lambda t, axes: t.max(axis=axes)) if mode == "max" else \
        (lambda t, axes: t.mean(axis=axes))
    for shape, k in RESHAPE_CASES:
        x = rng.permutation(math.prod(shape)).reshape(shape).astype(float)
        where = f"On an input of shape {shape} with k = {k}"
        try:
            result = student(x.copy(), k)
        except Exception as error:  # the student's code: report, never crash the notebook
            return wrong(f"{where} your code raised {type(error).__name__}: {error}")
        if unanswered(result):
            return TODO
        result = np.asarray(result)
        expected = pool(x, k, k)
        if result.shape == expected.shape and np.allclose(result, expected):
            continue
        for value, hint in _reshape_mistakes(x, k, reduce):
            if result.shape == value.shape and np.allclose(result, value):
                return wrong(f"{where}: {hint}")
        if result.shape == expected.shape and np.allclose(result, other(x, k, k)):
            return wrong(f"{where} you computed the " + ("averages" if mode == "max" else "maxima")
                         + "; this one asks for the " + ("largest value." if mode == "max" else
                                                          "mean value."))
        if result.ndim == 5:
            return wrong(f"{where} your output has shape {result.shape}: reduce both k-sized "
                         "axes at once, axis=(3, 5).")
        return wrong(f"{where}: {_first_difference(result, expected, 'output')}.")
    return right(f"Your reshape trick matches pooling_lib on {len(RESHAPE_CASES)} inputs (k = 2, 3 "
                 "and 4, square and oblong). It needs windows that tile the input: stride = k, "
                 "and H, W multiples of k.")


# --- the CNN (notebook 07) ---------------------------------------------------------------------

def _layer_shapes(network, batch, input_shape):
    """(layer, input shape, output shape) for every layer of ``network`` (an ``nn.Sequential``)
    on a batch of ``batch`` zero images of ``input_shape`` (C, H, W). Runs on a copy, so the
    network's remembered inputs and outputs stay as they were."""
    import copy
    shapes, x = [], np.zeros((batch, *input_shape))
    for layer in copy.deepcopy(network).layers:
        y = layer.forward(x)
        shapes.append((layer, x.shape, y.shape))
        x = y
    return shapes


def _whole(answer):
    return isinstance(answer, (int, np.integer)) and not isinstance(answer, bool)


def _times(sizes):
    return " × ".join(f"{s:,}" for s in sizes)


def check_dense_parameters(answer, network, input_shape=(1, 8, 8)):
    """Is ``answer`` the number of parameters (weights and biases) of the ``Dense`` layer of
    ``network`` (an ``nn.Sequential``) for images of ``input_shape`` (C, H, W)?"""
    from ..layers import AvgPool, MaxPool
    from ..cnn.nn import Dense, Flatten, count_parameters
    if unanswered(answer):
        return TODO
    if not _whole(answer):
        return wrong(f"Give a whole number of parameters, not {answer!r}.")
    shapes = _layer_shapes(network, 1, input_shape)
    k = next(k for k, (layer, _, _) in enumerate(shapes) if isinstance(layer, Dense))
    n_in, n_out = shapes[k][0].shape
    maps = shapes[k - 1][1][1:] if k and isinstance(shapes[k - 1][0], Flatten) else (n_in,)
    inputs = f"{n_in:,} inputs" + (f" ({_times(maps)})" if len(maps) > 1 else "")
    expected = n_in * n_out + n_out
    if answer == expected:
        return right(f"{expected:,}: {inputs} × {n_out} outputs = {n_in * n_out:,} weights, "
                     f"+ {n_out} biases (one per output).")
    pooled = any(isinstance(layer, (MaxPool, AvgPool)) for layer in network.layers)
    if len(maps) == 3:
        c, h, w = maps
        other = (c, h * 2, w * 2) if pooled else (c, h // 2, w // 2)
        swap = (f"That is the dense layer of the network {'without' if pooled else 'with 2×2'} "
                f"pooling, which gets {_times(other)} = {math.prod(other):,} values. This one gets "
                f"{_times(maps)} = {n_in:,}.")
    else:
        other, swap = (0,), ""
    convolution = count_parameters(network) - expected
    mistakes = [
        (n_in * n_out, f"That counts the weights ({n_in:,} × {n_out} = {n_in * n_out:,}) but "
                       f"not the biases: one per output, so + {n_out}."),
        (math.prod(other) * n_out + n_out, swap),
        (math.prod(other) * n_out, swap + f" And add the {n_out} biases."),
        (count_parameters(network), f"That is the whole network, the convolution's "
                                    f"{convolution:,} parameters included. Count the dense layer "
                                    "only."),
        (n_in * n_out + n_in, f"One bias per output ({n_out} of them), not one per input."),
        (n_in + n_out, f"Each of the {n_out} outputs has its own weight for every one of the "
                       f"{n_in:,} inputs: multiply, then add the biases."),
        (maps[0] * n_out + n_out, "The dense layer gets every value of every map, not one per "
                                  f"channel: {_times(maps)} = {n_in:,} inputs."),
    ]
    for value, hint in mistakes:
        if answer == value and hint:
            return wrong(f"{answer:,} is not it. {hint}")
    return wrong(f"{answer:,} is not it. A dense layer has inputs × outputs weights and one bias "
                 "per output. How many numbers reach it? Flatten gives it every value of every "
                 "map: C × H × W.")


def _layer_index(network, layer):
    """``layer`` as an index into ``network.layers``: an int, or a class name such as "MaxPool"."""
    names = [type(item).__name__ for item in network.layers]
    if isinstance(layer, str) and layer in names:
        return names.index(layer)
    if _whole(layer) and -len(names) <= layer < len(names):
        return layer % len(names)
    raise ValueError(f"layer must be an index below {len(names)} or one of {names}, got {layer!r}")


def check_layer_shape(answer, network, layer, batch, input_shape=(1, 8, 8)):
    """Is ``answer`` the shape that ``layer`` of ``network`` (an index, or a class name such as
    "MaxPool") outputs for a batch of ``batch`` images of ``input_shape`` (C, H, W)?"""
    from ..layers import AvgPool, MaxPool
    if unanswered(answer):
        return TODO
    index = _layer_index(network, layer)
    shapes = _layer_shapes(network, batch, input_shape)
    item, given, expected = shapes[index]
    name = type(item).__name__
    pooling = isinstance(item, (MaxPool, AvgPool))
    if _whole(answer):
        more = (" That is how many numbers come out; give their shape." if answer ==
                math.prod(expected) else "")
        return wrong(f"Give the shape as a tuple of sizes, like (2, 3, 4, 5).{more}")
    try:
        answer = tuple(int(a) for a in answer)
    except (TypeError, ValueError):
        return wrong("Give the shape as a tuple of sizes, like (2, 3, 4, 5).")
    if answer == expected:
        if pooling and len(expected) == 4:
            return right(f"{expected}: the batch ({expected[0]}) and the {expected[1]} channels "
                         f"stay; each {given[2]}×{given[3]} map becomes {expected[2]}×"
                         f"{expected[3]}.")
        return right(f"{expected}: {name} turns {given} into {expected}.")
    unchanged = f"That is what goes into {name}. What comes out of it?"
    if pooling and len(given) == 4:
        pool, stride = item.settings["pool_size"], item.settings["stride"]
        unchanged = (f"That is what goes into {name}. Its windows shrink every map: "
                     f"{output_size_working(given[-1], pool, stride)} per side.")
    mistakes = [
        (expected[1:], f"Keep the batch axis in front: {batch} images go in, {batch} come out."),
        (given, unchanged),
        ((batch, math.prod(expected[1:])), f"That comes out of Flatten, after the {name}."),
    ]
    if len(expected) == 4:
        n, c, h, w = expected
        mistakes += [
            ((n, h, w, c), "pooling_lib keeps the channels before the height and width, "
                           "(N, C, H, W), as PyTorch does (Keras puts them last)."),
            ((n, input_shape[0], h, w), f"The convolution turned the image's {input_shape[0]} "
                                        f"channel{'s' * (input_shape[0] > 1)} into {c} feature "
                                        "maps, and they all go on."),
        ]
        if pooling:
            mistakes += [((n, c // 2, h, w), f"{name} works on every channel on its own: the {c} "
                                             f"channels stay {c}."),
                         ((n, c // 4, h, w), f"{name} works on every channel on its own: the {c} "
                                             f"channels stay {c}.")]
    for value, hint in mistakes:
        if answer == tuple(value):
            return wrong(f"{answer} is not it. {hint}")
    if len(answer) == len(expected) and answer[1:] == expected[1:]:
        return wrong(f"{answer} is not it. The first axis counts the images in the batch: {batch}.")
    return wrong(f"{answer} is not it. {name} gets {given}: what does it do to each axis?")
