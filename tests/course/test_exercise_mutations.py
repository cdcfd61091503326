"""Mutation tests for the "your turn" checkers of pooling_lib.course.exercises.

For every checker: the right answers, in every form a student could write them, must pass; the
classic wrong ones, written as a student would (a slipped formula, a loop with ``=`` for ``+=``,
a hand-made array with the upstream gradient ignored...), must fail *with the message that names
the mistake* (a distinctive phrase); and junk must never make the checker raise.

The mutants are written here, independently of the checkers' own models of the mistakes. The
inputs use upstream gradients that are not all ones, tied maxima and overlapping windows, so
that those mutants die. ``python tests/course/test_exercise_mutations.py`` prints the kill rate
of every checker: a mutant is killed when the checker rejects it and names its mistake.
"""
import math
from fractions import Fraction
from typing import Callable, NamedTuple

import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib import reference
from pooling_lib.course import exercises as ex
from pooling_lib.course.widgets import distinct_input, small_input


class Mutant(NamedTuple):
    name: str
    answer: object
    phrases: tuple  # the message must contain every one of them


class Checker(NamedTuple):
    name: str
    check: Callable  # answer -> Feedback
    rights: list     # (name, answer)
    mutants: list    # Mutant
    junk: list       # answers that must be refused (or reminded) without raising

    def __repr__(self):
        return self.name


def mutant(name, answer, *phrases):
    return Mutant(name, answer, phrases)


def forms_of_whole(n):
    """Every way to write the whole number ``n``."""
    forms = [("int", n), ("np.int64", np.int64(n)), ("np.uint32", np.uint32(n)),
             ("0-d array", np.array(n)), ("float", float(n)), ("np.float64", np.float64(n)),
             ("0-d float array", np.array(float(n))), ("Fraction", Fraction(n))]
    if n < 100:
        forms += [("np.int8", np.int8(n)), ("np.float32", np.float32(n))]
    return forms


def forms_of_array(a):
    """Every way to write the array ``a``: lists, tuples, arrays of several dtypes."""
    a = np.asarray(a)
    forms = [("list", a.tolist()), ("float list", a.astype(float).tolist()),
             ("tuples", tuple(tuple(row) for row in a.tolist())), ("float64", a.astype(float)),
             ("float32", a.astype(np.float32))]
    if np.array_equal(a, np.round(a)):
        forms += [("int64", a.astype(np.int64)), ("int16", a.astype(np.int16))]
    return forms


class Weird:
    def __repr__(self):
        raise RuntimeError("no repr")

    def __iter__(self):
        raise RuntimeError("no iteration")

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array")


JUNK_VALUES = [
    "4", "abc", "", b"4", True, False, np.True_, np.array(True), float("nan"), float("inf"),
    -float("inf"), np.nan, 1 + 2j, [], [[]], [[1, 2], [3]], {}, {1: 2}, set(), [None], [[None]],
    ["1", "2"], np.array(["a"]), np.array([True, False]), np.zeros((0,)), np.zeros((2, 0)),
    np.full((3, 3), np.nan), object(), Weird(), print, (lambda: 1), type, 10 ** 40, -3, 4.5,
    np.float64(4.5), [4], (4,), np.array([4]), np.arange(1000.0).reshape(10, 10, 10),
    np.array(["4"]), [[1j]], range(3), iter([1, 2]),
]


# --- sizes -------------------------------------------------------------------------------------

def formula_mutants(L, F, S, P=0, d=1, ceil=False):
    """Students' slips with the output-size formula, each computing a count, with the phrase
    its message must hold."""
    eff = d * (F - 1) + 1

    def count(L=L, P=P, eff=eff, S=S, up=ceil, plus=1):
        span = L + 2 * P - eff
        return (math.ceil(span / S) if up else math.floor(span / S)) + plus

    found = [("no + 1", count(plus=0), "left out the + 1"),
             ("floor/ceil swapped", count(up=not ceil), "round up" if ceil else "Round down (floor)"),
             ("whole length", (L + 2 * P) // S, "not the whole length")]
    if P:
        found += [("padding forgotten", count(P=0), "forgot the padding"),
                  ("padding on one side", count(L=L - P), "both sides")]
    if d > 1:
        found.append(("dilation ignored", count(eff=F), "A dilated window spans"))
    if S > 1:
        found.append(("stride ignored", count(S=1), f"moves S = {S} cells"))
    if ceil and count() != pl.pool_output_size(L, F, S, P, d, ceil_mode=True):
        found.append(("last window kept", count(), "past the input and the left padding"))
    found.append(("no rounding", (L + 2 * P - eff) / S + 1, "not a whole number"))
    return found


def same_mutants(L, F, S):
    return [("floor", L // S, "Round up"), ("length kept", L, "only at stride 1"),
            ("valid", (L - F) // S + 1, "That is 'valid'"), ("no rounding", L / S, "not a whole number")]


def size_checker(name, L, F, S, P=0, d=1, ceil=False):
    expected = pl.pool_output_size(L, F, S, P, d, ceil_mode=ceil)
    raw = same_mutants(L, F, S) if P == "same" else formula_mutants(L, F, S, P, d, ceil)
    # when two slips give one number, the message must name both
    by_value = {}
    for _, value, phrase in raw:
        if value != expected:
            by_value.setdefault(value, []).append(phrase)
    mutants = [mutant(slip, value, *by_value[value]) for slip, value, _ in raw if value != expected]
    return Checker(name, lambda a: ex.check_output_size(a, L, F, S, P, d, ceil),
                   forms_of_whole(expected), mutants, JUNK_VALUES)


def pool_count_checker(name, L, F, S):
    per = (L - F) // S + 1
    raw = [("one row", per, "rows × columns"), ("no + 1", (per - 1) ** 2, "left out the + 1"),
           ("added", 2 * per, "multiply them"), ("input cells", L * L, "input cells"),
           ("L / S", (L // S) ** 2, "not L / S"), ("stride 1", (L - F + 1) ** 2, "not 1"),
           ("true", True, "truth value"), ("half", per * per + 0.5, "not a whole number")]
    by_value = {}
    for _, value, phrase in raw:
        by_value.setdefault(value, []).append(phrase)
    mutants = [mutant(slip, value, *by_value[value]) for slip, value, _ in raw
               if value != per * per]
    return Checker(name, lambda a: ex.check_pool_count(a, L, F, S), forms_of_whole(per * per),
                   mutants, JUNK_VALUES)


# --- values ------------------------------------------------------------------------------------

def by_hand(x, F, S, reduce, span=None, rows=None):
    """What a student writes for pooling ``x`` (H, W): the windows (i·S, j·S) of ``span`` cells,
    ``rows`` windows per axis (the output-size formula by default)."""
    x = np.asarray(x, float)
    span = F if span is None else span
    n = (x.shape[0] - F) // S + 1 if rows is None else rows
    m = (x.shape[1] - F) // S + 1 if rows is None else rows
    return [[float(reduce(x[i * S:i * S + span, j * S:j * S + span])) for j in range(m)]
            for i in range(n)]


def pooled_checker(name, x, F, S, mode):
    reduce, other = (np.max, np.mean) if mode == "max" else (np.mean, np.max)
    right = by_hand(x, F, S, reduce)
    ceil_rows = math.ceil((len(x) - F) / S) + 1
    mutants = [
        mutant("the other pooling", by_hand(x, F, S, other), "averages" if mode == "max" else "maxima"),
        mutant("transposed", np.array(right).T, "Rows and columns are swapped"),
        mutant("windows one cell short", by_hand(x, F, S, reduce, span=F - 1), "one cell short"),
        mutant("stride 1", by_hand(x, F, 1, reduce), "not 1"),
        mutant("partial windows kept", by_hand(x, F, S, reduce, rows=ceil_rows), "dropped, not kept"),
        mutant("no + 1", np.array(right)[:-1, :-1], "One window too few"),
        mutant("one cell slipped", np.array(right) + np.eye(len(right))[0], "should be"),
        mutant("flattened", np.ravel(right), "right numbers"),
        mutant("shape", np.zeros((len(right) + 3, 1)), "count the windows"),
    ]
    if mode == "avg":
        mutants += [
            mutant("sums", by_hand(x, F, S, np.sum), "window sums"),
            mutant("divided by F", (np.array(by_hand(x, F, S, np.sum)) / F).tolist(), "not by F"),
        ]
        # the same averages, rounded to two decimals by hand (where they do not come out exact)
        rights = forms_of_array(right) + [("rounded to 2 decimals", np.round(right, 2)),
                                          ("rounded to 3 decimals", np.round(right, 3).tolist())]
    else:
        rights = forms_of_array(right)
    mutants = [m for m in mutants if np.shape(m.answer) != np.shape(right)
               or not np.allclose(m.answer, right)]
    return Checker(name, lambda a: ex.check_pooled(a, x, F, S, mode), rights, mutants, JUNK_VALUES)


# --- code: forward -----------------------------------------------------------------------------

def every_plane(plane_code):
    """A student's function of one (H, W) plane, run on every plane of x (..., H, W)."""
    def student(x, pool, stride):
        outs = [np.asarray(plane_code(x[p], pool, stride)) for p in np.ndindex(x.shape[:-2])]
        return np.array(outs).reshape(x.shape[:-2] + outs[0].shape)
    return student


def loop_pool(reduce, span=lambda F: F, step=lambda F, S: S, count=None):
    """A student's loop over the windows of one plane."""
    def plane_code(x, F, S):
        s, w = step(F, S), span(F)
        n = ((x.shape[0] - F) // s + 1, (x.shape[1] - F) // s + 1) if count is None else \
            count(x.shape, F, s)
        out = np.zeros(n)
        for i in range(n[0]):
            for j in range(n[1]):
                out[i, j] = reduce(x[i * s:i * s + w, j * s:j * s + w])
        return out
    return plane_code


def ceil_count(shape, F, S):
    return tuple(math.ceil((n - F) / S) + 1 for n in shape)


class MaxLayer(pl.Layer):
    """A right student layer (loops from pooling_lib.reference)."""

    def __init__(self, pool_size, stride):
        super().__init__()
        self.pool_size, self.stride = pool_size, stride

    def forward(self, input):
        self.input = input
        return reference.max_pool2d(input, self.pool_size, self.stride)

    def backward(self, output_gradient, learning_rate):
        return reference.max_pool2d_backward(output_gradient, self.input, self.pool_size, self.stride)


def only_2d(x, pool, stride):
    H, W = x.shape                          # raises on (C, H, W): the student forgot the planes
    return loop_pool(np.max)(x, pool, stride)


def first_plane_only(x, pool, stride):
    return loop_pool(np.max)(x.reshape(-1, *x.shape[-2:])[0], pool, stride)


def forgot_return(x, pool, stride):
    out = pl.max_pool2d(x, pool, stride)    # noqa: F841 (the slip under test)


def stub(x, pool, stride):
    """The exercise as given."""
    ...   # your code here


def forward_checker(mode):
    reduce, other = (np.max, np.mean) if mode == "max" else (np.mean, np.max)
    right = every_plane(loop_pool(reduce))
    rights = [("loop function", right),
              ("pooling_lib.reference", lambda x, p, s: MODES_REF[mode](x, p, s)),
              ("returns nested lists", lambda x, p, s: right(x, p, s).tolist()),
              ("returns float32", lambda x, p, s: right(x, p, s).astype(np.float32)),
              ("spoils its input", lambda x, p, s: (right(x, p, s), x.fill(0))[0])]
    if mode == "max":
        rights += [("layer class", MaxLayer), ("returns ints", lambda x, p, s: right(x, p, s).astype(int))]
    mutants = [
        mutant("the other pooling", every_plane(loop_pool(other)),
               "averages" if mode == "max" else "maxima"),
        mutant("transposed", lambda x, p, s: right(x, p, s).swapaxes(-1, -2), "swapped"),
        mutant("windows one cell short", every_plane(loop_pool(reduce, span=lambda F: F - 1)),
               "one cell short"),
        mutant("stride ignored (1)", every_plane(loop_pool(reduce, step=lambda F, S: 1)), "not 1"),
        mutant("stride = pool", every_plane(loop_pool(reduce, step=lambda F, S: F)),
               "not a whole window"),
        mutant("partial windows kept", every_plane(loop_pool(
            reduce, count=ceil_count)), "dropped, not kept"),
        mutant("no + 1", every_plane(loop_pool(reduce, count=lambda shape, F, S: tuple(
            (n - F) // S for n in shape))), "One window too few"),
        mutant("one (H, W) plane only", first_plane_only if mode == "max" else
               lambda x, p, s: right(x.reshape(-1, *x.shape[-2:])[:1], p, s)[0], "one (H, W) plane"),
        mutant("planes forgotten", only_2d if mode == "max" else
               lambda x, p, s: loop_pool(np.mean)(x.reshape(x.shape[-2:]), p, s),
               "raised", "loop over every plane"),
        mutant("forgot return", forgot_return, "does it end with a return"),
        mutant("off somewhere", lambda x, p, s: right(x, p, s) + (x.ndim > 2), "output["),
    ]
    if mode == "avg":
        mutants += [mutant("sums", every_plane(loop_pool(np.sum)), "window sums"),
                    mutant("divided by F", every_plane(loop_pool(lambda w: w.sum() / len(w))),
                           "not by F")]
    return Checker(f"check_forward ({mode})", lambda f: ex.check_forward(f, mode), rights,
                   mutants + [mutant("stub", stub, "Not answered yet")], CODE_JUNK)


MODES_REF = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}


# --- code: backward ----------------------------------------------------------------------------

def every_plane_backward(plane_code):
    """A student's backward pass of one plane, run on every plane."""
    def student(grad, x, pool, stride):
        gi = np.zeros(x.shape)
        for p in np.ndindex(x.shape[:-2]):
            gi[p] = plane_code(grad[p], x[p], pool, stride)
        return gi
    return student


def max_backward(pick="argmax", write="+=", upstream=True, swap=False, corner=True, span="F",
                 share=None):
    """A student's max-pooling backward pass for one plane, with one slip switched on."""
    def plane_code(grad, x, F, S):
        gi = np.zeros(x.shape)
        w = F - 1 if span == "short" else F
        for i in range(grad.shape[0]):
            for j in range(grad.shape[1]):
                window = x[i * S:i * S + w, j * S:j * S + w]
                g = (grad[j, i] if swap else grad[i, j]) if upstream else 1.0
                if pick == "argmax":
                    winners = [np.unravel_index(np.argmax(window), window.shape)]
                elif pick == ">=":                 # a loop comparing with >=: the last tie wins
                    best = None
                    for a in range(window.shape[0]):
                        for b in range(window.shape[1]):
                            if best is None or window[a, b] >= window[best]:
                                best = (a, b)
                    winners = [best]
                else:                               # every tied cell
                    winners = list(zip(*np.nonzero(window == window.max())))
                r, c = (i * S, j * S) if corner else (0, 0)
                if write == "mask":
                    mask = np.zeros(window.shape)
                    mask[winners[0]] = 1
                    gi[r:r + w, c:c + w] = mask * g
                    continue
                for a, b in winners:
                    value = g / len(winners) if share == "split" else g
                    if write == "=":
                        gi[r + a, c + b] = value
                    else:
                        gi[r + a, c + b] += value
        return gi
    return every_plane_backward(plane_code)


def avg_backward(write="+=", upstream=True, swap=False, divide=lambda F: F * F, corner=True,
                 span="F"):
    """A student's average-pooling backward pass for one plane, with one slip switched on."""
    def plane_code(grad, x, F, S):
        gi = np.zeros(x.shape)
        w = F - 1 if span == "short" else F
        for i in range(grad.shape[0]):
            for j in range(grad.shape[1]):
                g = (grad[j, i] if swap else grad[i, j]) if upstream else 1.0
                r, c = (i * S, j * S) if corner else (0, 0)
                if write == "=":
                    gi[r:r + w, c:c + w] = g / divide(F)
                else:
                    gi[r:r + w, c:c + w] += g / divide(F)
        return gi
    return every_plane_backward(plane_code)


def backward_checker(mode):
    if mode == "max":
        right = max_backward()
        rights = [("loop with +=", right), ("layer class", MaxLayer),
                  ("pooling_lib", lambda g, x, p, s: pl.max_pool2d_backward(g, x, p, s)),
                  ("returns lists", lambda g, x, p, s: right(g, x, p, s).tolist()),
                  ("returns float32", lambda g, x, p, s: right(g, x, p, s).astype(np.float32))]
        mutants = [
            mutant("= for +=", max_backward(write="="), "use +="),
            mutant("dx[window] = mask * g", max_backward(write="mask"), "wrote over its whole patch"),
            mutant("upstream gradient ignored", max_backward(upstream=False), "not 1"),
            mutant("upstream gradient transposed", max_backward(swap=True), "grad_output[j, i]"),
            mutant("result transposed", lambda g, x, p, s: right(g, x, p, s).swapaxes(-1, -2),
                   "transposed"),
            mutant("last tie (>=)", max_backward(pick=">="), "last tied cell"),
            mutant("every tie gets it", max_backward(pick="all"), "every tied cell got"),
            mutant("ties split", max_backward(pick="all", share="split"), "shared the gradient"),
            mutant("average pooling's backward", avg_backward(), "gradient of average pooling"),
            mutant("window corner forgotten", max_backward(corner=False), "add the window's corner"),
            mutant("windows one cell short", max_backward(span="short"), "one cell short"),
        ]
    else:
        right = avg_backward()
        rights = [("loop with +=", right),
                  ("pooling_lib", lambda g, x, p, s: pl.avg_pool2d_backward(g, x.shape, p, s)),
                  ("returns lists", lambda g, x, p, s: right(g, x, p, s).tolist())]
        mutants = [
            mutant("= for +=", avg_backward(write="="), "use +="),
            mutant("not divided", avg_backward(divide=lambda F: 1), "Divide by the window size"),
            mutant("divided by F", avg_backward(divide=lambda F: F), "not by F"),
            mutant("upstream gradient ignored", avg_backward(upstream=False), "not 1/(F·F)"),
            mutant("upstream gradient transposed", avg_backward(swap=True), "grad_output[j, i]"),
            mutant("result transposed", lambda g, x, p, s: right(g, x, p, s).swapaxes(-1, -2),
                   "transposed"),
            mutant("max pooling's backward", max_backward(), "gradient of max pooling"),
            mutant("window corner forgotten", avg_backward(corner=False), "add the window's corner"),
            mutant("windows one cell short", avg_backward(span="short"), "one cell short"),
        ]
    mutants += [mutant("forgot return", forgot_return_backward, "does it end with a return"),
                mutant("stub", stub_backward, "Not answered yet"),
                mutant("2-D only", plane_only_backward(right), "loop over every plane")]
    return Checker(f"check_backward ({mode})", lambda f: ex.check_backward(f, mode), rights,
                   mutants, CODE_JUNK)


def forgot_return_backward(grad, x, pool, stride):
    gi = pl.max_pool2d_backward(grad, x, pool, stride)   # noqa: F841 (the slip under test)


def stub_backward(grad_output, x, pool, stride):
    """grad_output: (..., oh, ow), x: (..., H, W) -> grad_input: (..., H, W)."""
    ...   # your code here: start from zeros, send every window's gradient to its winner


def plane_only_backward(right):
    def student(grad, x, pool, stride):
        oh, ow = grad.shape                  # raises on (C, oh, ow)
        return right(grad, x, pool, stride)
    return student


def raises(*args):
    raise RuntimeError("student bug")


class BrokenLayer:
    def __init__(self):                      # takes no pool or stride
        pass


CODE_JUNK = [
    raises, lambda *a: "text", lambda *a: 3, lambda *a: [[1, 2], [3]], lambda *a: {"a": 1},
    lambda *a: np.full((2, 2), np.nan), lambda *a: np.zeros((0,)), lambda *a: [None],
    lambda *a: object(), lambda *a: Weird(), lambda *a: True, lambda *a: np.array(["x"]),
    lambda: 1, lambda x: x, BrokenLayer, int, 5, "my_function", [1, 2], object(), Weird(),
    lambda *a: iter([1]), lambda *a: 1 / 0, lambda *a: a[10], lambda *a: None,
]


# --- convolution (notebook 01) ------------------------------------------------------------------

def feature_value_checker():
    from pooling_lib.cnn.data import load_digits_split
    image = (load_digits_split()[0][6, 0] * 16).astype(int)        # the digit of notebook 01
    kernel = np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]])       # its horizontal-edge kernel
    i, j = 3, 1
    window = image[i:i + 3, j:j + 3]
    right = int(sum(window[r, c] * kernel[r, c] for r in range(3) for c in range(3)))

    def at(r, c, w=kernel):
        return int((image[r:r + 3, c:c + 3] * w).sum())

    rights = [("int", right), ("float", float(right)), ("np.int64", np.int64(right)),
              ("0-d array", np.array(right))]
    raw = [("the window's sum", int(window.sum()), "without the kernel"),
           ("the kernel turned around", at(i, j, kernel[::-1, ::-1]), "turns the kernel around"),
           ("row and column swapped", at(j, i), f"window at ({j}, {i})"),
           ("the mean", (window * kernel).mean(), "mean of the products"),
           ("one row up", at(i - 1, j), f"window at ({i - 1}, {j})"),
           ("one row down", at(i + 1, j), f"window at ({i + 1}, {j})"),
           ("one column left", at(i, j - 1), f"window at ({i}, {j - 1})"),
           ("one column right", at(i, j + 1), f"window at ({i}, {j + 1})"),
           ("a slip", right + 1, "Lay the kernel on the window"),
           ("a list", [right], "Give one number"), ("text", str(right), "text")]
    assert len({m[1] for m in raw[:9]} | {right}) == 10    # every slip gives its own number here
    return Checker("check_feature_value (01: horizontal at (3, 1))",
                   lambda a: ex.check_feature_value(a, image, kernel, (i, j)), rights,
                   [mutant(*m) for m in raw], JUNK_VALUES)


# --- cells and gradients by hand (notebook 05) -------------------------------------------------

Q = distinct_input(5)   # notebook 05, "your turn": 3×3 at stride 1, output cell (1, 2)


def winner_of(x, F, S, cell):
    i, j = cell
    window = np.asarray(x)[i * S:i * S + F, j * S:j * S + F]
    a, b = np.unravel_index(np.argmax(window), window.shape)
    return (int(i * S + a), int(j * S + b))


def cells_checker(name, x, F, S, cell):
    r, c = winner_of(x, F, S, cell)
    i, j = cell
    window = [(a, b) for a in range(i * S, i * S + F) for b in range(j * S, j * S + F)]
    loser = next(w for w in window if x[w] < x[r, c])
    outside = next(w for w in np.ndindex(x.shape) if w not in window and w != (c, r)
                   and w != (r - i * S, c - j * S) and w != tuple(cell))
    rights = [("list", [(r, c)]), ("set", {(r, c)}), ("tuple of pairs", ((r, c),)), ("bare pair", (r, c)),
              ("list pair", [r, c]), ("array", np.array([[r, c]])), ("1-d array", np.array([r, c])),
              ("numpy ints", [(np.int64(r), np.int32(c))]), ("floats", [(float(r), float(c))]),
              ("list of lists", [[r, c]]), ("duplicate", [(r, c), (r, c)])]
    mutants = [
        mutant("row and column swapped", [(c, r)], "swapped"),
        mutant("place inside the window", [(r - i * S, c - j * S)], "inside the window"),
        mutant("a cell that lost", [loser], "not the largest value"),
        mutant("outside the window", [outside], "not in window"),
        mutant("outside the input", [(x.shape[0], 0)], "outside the"),
        mutant("two cells", [(r, c), loser], "one cell only"),
        mutant("the whole window", window, "whole window"),
        mutant("flat index", r * x.shape[1] + c, "flat index"),
        mutant("nothing", [], "empty list"),
        mutant("a bool", [(True, 1)], "not a (row, column) pair"),
    ]
    mutants = [m for m in mutants if m.answer != [(r, c)]]
    return Checker(name, lambda a: ex.check_gradient_cells(a, x, F, S, cell), rights, mutants,
                   JUNK_VALUES)


TIES = np.array([[1, 7, 2], [0, 7, 0], [3, 1, 4]])   # window (0, 0): 7 at (0, 1) and (1, 1)


def tie_cells_checker():
    base = cells_checker("check_gradient_cells (tie)", TIES, 2, 1, (0, 0))
    mutants = [mutant("the last tied cell", [(1, 1)], "first tied cell"),
               mutant("every tied cell", [(0, 1), (1, 1)], "tie for the largest value")]
    return base._replace(mutants=mutants + [m for m in base.mutants if m.name in (
        "outside the input", "nothing", "flat index")])


def tie_exercise_checker():
    """Notebook 06's exercise: a 3×3 pool at stride 1 over an input with one tie."""
    q = distinct_input(5, tie=True)
    tied = [tuple(map(int, c)) for c in np.argwhere(q == q.max())]
    assert tied == [(2, 2), (2, 3)]                      # both in window (1, 2): rows 1-3, columns 2-4
    base = cells_checker("check_gradient_cells (06: tie, 3, 1, cell (1, 2))", q, 3, 1, (1, 2))
    mutants = [mutant("the last tied cell", [tied[1]], "first tied cell"),
               mutant("every tied cell", tied, "tie for the largest value")]
    return base._replace(mutants=mutants + [m for m in base.mutants if m.name in (
        "outside the input", "nothing", "flat index", "a cell that lost", "row and column swapped")])


ACC_X = np.array([[1, 4, 2, 0],        # notebook 05: add it up by hand (3×3 at stride 1)
                  [3, 5, 8, 1],
                  [2, 6, 0, 3],
                  [9, 1, 7, 2]])
ACC_GRAD = np.array([[1, 2], [3, 4]])


def hand_max_gradient(x, grad, F, S, keep="add", upstream=True, swap=False):
    """A student's input gradient on paper: each window's gradient to its winner."""
    gi = np.zeros(np.shape(x))
    seen = np.zeros(np.shape(x), bool)
    for i in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            r, c = winner_of(x, F, S, (i, j))
            g = (grad[j, i] if swap else grad[i, j]) if upstream else 1
            if keep == "add":
                gi[r, c] += g
            elif keep == "last" or not seen[r, c]:
                gi[r, c] = g
            seen[r, c] = True
    return gi


def hand_avg_gradient(shape, grad, F, S, keep="add", upstream=True, swap=False, divide=None):
    gi = np.zeros(shape)
    for i in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            g = (grad[j, i] if swap else grad[i, j]) if upstream else 1
            share = g / (F * F if divide is None else divide)
            if keep == "add":
                gi[i * S:i * S + F, j * S:j * S + F] += share
            else:
                gi[i * S:i * S + F, j * S:j * S + F] = share
    return gi


def input_gradient_checker():
    x, g = ACC_X, ACC_GRAD
    right = hand_max_gradient(x, g, 3, 1)
    wrong_cell = right.copy()
    (r, c), value = max(((tuple(w), right[tuple(w)]) for w in np.argwhere(right)), key=lambda t: t[1])
    wrong_cell[r, c], wrong_cell[r, c - 1] = 0, value       # the right amount, one cell off
    mutants = [
        mutant("= for += (last kept)", hand_max_gradient(x, g, 3, 1, keep="last"), "add up"),
        mutant("= for += (first kept)", hand_max_gradient(x, g, 3, 1, keep="first"), "add up"),
        mutant("upstream gradient ignored", hand_max_gradient(x, g, 3, 1, upstream=False), "not 1"),
        mutant("upstream gradient transposed", hand_max_gradient(x, g, 3, 1, swap=True),
               "grad_output[j, i]"),
        mutant("average pooling's gradient", hand_avg_gradient(x.shape, g, 3, 1),
               "gradient of average pooling"),
        mutant("wrong cell", wrong_cell, "wrong cell", "wins no window"),
        mutant("one sum slipped", right - (right == right.max()), "collects"),
        mutant("grad_output's shape", g, "shape of grad_output"),
        mutant("other shape", np.zeros((3, 3)), "one number per input cell"),
    ]
    return Checker("check_input_gradient (max)",
                   lambda a: ex.check_input_gradient(a, x, g, 3, 1), forms_of_array(right),
                   mutants, JUNK_VALUES)


AVG_GRAD = np.array([[4, 8], [12, 16]])    # notebook 05: average pooling by hand (2×2, stride 1)


def avg_input_gradient_checker():
    g = AVG_GRAD
    right = hand_avg_gradient((3, 3), g, 2, 1)
    mutants = [
        mutant("not divided", hand_avg_gradient((3, 3), g, 2, 1, divide=1), "Divide by the window size"),
        mutant("divided by F", hand_avg_gradient((3, 3), g, 2, 1, divide=2), "not by F"),
        mutant("= for +=", hand_avg_gradient((3, 3), g, 2, 1, keep="last"), "add up"),
        mutant("upstream gradient ignored", hand_avg_gradient((3, 3), g, 2, 1, upstream=False),
               "not 1/(F·F)"),
        mutant("upstream gradient transposed", hand_avg_gradient((3, 3), g, 2, 1, swap=True),
               "grad_output[j, i]"),
        mutant("one cell slipped", right + np.eye(3)[1] * np.array([0, 1, 0]), "is in windows"),
        mutant("grad_output's shape", g / 4, "shape of grad_output"),
    ]
    return Checker("check_input_gradient (avg)",
                   lambda a: ex.check_input_gradient(a, (3, 3), g, 2, 1, mode="avg"),
                   forms_of_array(right), mutants, JUNK_VALUES)


# --- padding (notebook 07) ---------------------------------------------------------------------

X5 = small_input(5)


def padded_average_checker(include):
    F, S, P = 4, 2, 1
    padded = np.pad(X5.astype(float), P)
    window = padded[:F, :F]                     # the corner window, padding included
    total, real = window.sum(), np.count_nonzero(np.pad(np.ones(X5.shape), P)[:F, :F])
    right = total / (F * F if include else real)
    rights = [("float", right), ("np.float32", np.float32(right)), ("0-d array", np.array(right)),
              ("Fraction", Fraction(int(total), F * F if include else real)),
              ("rounded to 2 decimals", round(right, 2)), ("rounded to 3", round(right, 3))]
    if float(right).is_integer():
        rights.append(("int", int(right)))
    mutants = [
        mutant("the other setting", total / (real if include else F * F),
               "count_include_pad=False" if include else "count_include_pad=True"),
        mutant("the sum", total, "sum of the window's real cells"),
        mutant("divided by the padding cells", total / (F * F - real), "padding cells; divide"),
        mutant("the maximum", window.max(), "largest value"),
        mutant("padding forgotten", X5[:F, :F].mean(), "as if there were no padding"),
        mutant("divided by F", total / F, "not by the window's side"),
        mutant("a bool", True, "truth value"),
        mutant("text", "3.125", "text"),
    ]
    return Checker(f"check_padded_average (count_include_pad={include})",
                   lambda a: ex.check_padded_average(a, X5, F, S, P, include), rights, mutants,
                   JUNK_VALUES)


# --- adaptive pooling (notebook 08) ------------------------------------------------------------

def bins_checker():
    L, out = 7, 3
    right = [(math.floor(i * L / out), math.ceil((i + 1) * L / out) - 1) for i in range(out)]
    assert right == [(0, 2), (2, 4), (4, 6)]
    rights = [("tuples", right), ("lists", [list(p) for p in right]), ("tuple of tuples", tuple(right)),
              ("array", np.array(right)), ("numpy ints", [tuple(np.int64(v) for v in p) for p in right]),
              ("floats", [(float(a), float(b)) for a, b in right])]
    raw = [("end excluded", [(a, b + 1) for a, b in right], "end is excluded"),
           ("end rounded down", [(i * L // out, (i + 1) * L // out - 1) for i in range(out)], "rounds up"),
           ("equal bins", [(2 * i, 2 * i + 1) for i in range(out)], "not all L // out = 2 cells"),
           ("a start off by one", [(0, 2), (3, 4), (4, 6)], "Bin 1 is not (3, 4)"),
           ("reversed", right[::-1], "Bin 0 is not (4, 6)"),
           ("two bins", right[:2], "There are 3 bins"), ("one pair", (0, 2), "one pair, but there are 3 bins"),
           ("a set", set(right), "the bins have an order"), ("text", "(0, 2), (2, 4), (4, 6)", "text"),
           ("a bool", [(0, True), (2, 4), (4, 6)], "not a (first, last) pair")]
    return Checker("check_adaptive_bins (7 into 3)", lambda a: ex.check_adaptive_bins(a, L, out),
                   rights, [mutant(*m) for m in raw], JUNK_VALUES)


# --- from average to max (notebook 12) ----------------------------------------------------------

def power_mean_checker():
    window, p = np.array([[1, 3], [5, 7]]), 2
    squares = [v * v for v in window.ravel()]
    right = math.sqrt(sum(squares) / len(squares))          # sqrt(21)
    rights = [("float", right), ("rounded to 2 decimals", round(right, 2)),
              ("rounded to 3", round(right, 3)), ("np.float32", np.float32(right)),
              ("0-d array", np.array(right))]
    raw = [("root of the sum", math.sqrt(sum(squares)), "root of the sum"),
           ("no root", sum(squares) / 4, "take its p-th root"),
           ("the sum of squares", sum(squares), "the sum of the powers"),
           ("the average", window.mean(), "the plain average"),
           ("the max", window.max(), "That is the max"),
           ("divided after the root", math.sqrt(sum(squares)) / 4, "divides after the root"),
           ("a slip", 5.0, "Raise each number to the power 2"),
           ("a list", [right], "Give one number"), ("text", "4.58", "text")]
    return Checker("check_power_mean (12: [[1, 3], [5, 7]], p = 2)",
                   lambda a: ex.check_power_mean(a, window, p), rights, [mutant(*m) for m in raw],
                   JUNK_VALUES)


# --- invariance and aliasing (notebook 13) -----------------------------------------------------

BLUR_SIGNAL = [2, 0, 0, 8, 0, 4]   # notebook 13, "your turn"


def hand_blur_pool(x, maxima=True, weights=(1, 2, 1), divide=4, pad=True, start=0, step=2):
    """Max-blur pooling of a list as a student works it out: the max of each pair of neighbours,
    each blurred with its two neighbours (a 0 beyond each end when ``pad``), every ``step``-th
    blurred value from ``start``."""
    m = [max(a, b) for a, b in zip(x, x[1:])] if maxima else list(x)
    m = [0, *m, 0] if pad else m
    blurred = [sum(w * v for w, v in zip(weights, m[i:i + 3])) / divide for i in range(len(m) - 2)]
    return blurred[start::step]


def blur_pool_checker():
    x = BLUR_SIGNAL
    right = hand_blur_pool(x)                                          # [1, 6, 4]
    by_library = pl.avg_pool1d(pl.avg_pool1d(pl.max_pool1d(np.array(x), 2, 1), 2, 1, padding=1), 2)
    rights = [("list", right), ("ints", [round(v) for v in right]), ("tuple", tuple(right)),
              *[(f"{np.dtype(t)} array", np.array(right, dtype=t))
                for t in (np.float64, np.float32, np.int64, np.int16)],
              ("pooling_lib", by_library)]
    every_other_max = [max(x[i], x[i + 1]) for i in range(0, len(x), 2)]
    raw = [("no blur", every_other_max, "No blur"),
           ("average pooling", [(x[i] + x[i + 1]) / 2 for i in range(0, len(x), 2)], "average pooling"),
           ("blur without the max", hand_blur_pool(x, maxima=False), "blurs the signal itself"),
           ("not subsampled", hand_blur_pool(x, step=1), "every blurred value"),
           ("odd places", hand_blur_pool(x, start=1), "odd places", "padding at each end"),
           ("no padding", hand_blur_pool(x, pad=False), "odd places", "padding at each end"),
           ("divided by 3", hand_blur_pool(x, divide=3), "not by 3"),
           ("divided by 3, rounded", np.round(hand_blur_pool(x, divide=3), 2), "not by 3"),
           ("not divided", hand_blur_pool(x, divide=1), "Divide each weighted sum by 4"),
           ("box blur", hand_blur_pool(x, weights=(1, 1, 1), divide=3), "counts twice"),
           ("blurred after subsampling", hand_blur_pool(every_other_max, maxima=False, step=1),
            "after keeping every other maximum"),
           ("one value slipped", [1, 6, 5], "Value 2 should be (8 + 2·4 + 0) / 4 = 4"),
           ("a column", [[v] for v in right], "right numbers"),
           ("too short", right[:2], "one value per window"),
           ("one number", 6, "one number"),
           ("text", "1, 6, 4", "text")]
    return Checker("check_blur_pool (13: [2, 0, 0, 8, 0, 4])", lambda a: ex.check_blur_pool(a, x),
                   rights, [mutant(*m) for m in raw], JUNK_VALUES)


# --- receptive fields (notebook 14) ------------------------------------------------------------

FIELD_STACK = [(3, 1), (2, 2), (5, 1), (3, 1)]   # notebook 14, "your turn": (kernel, stride)


def field_by_hand(stack, plus=1, jump_after=False, use_jump=True):
    """A receptive field worked out as a student would, layer by layer: start at ``plus``,
    add k − 1 times the jump (the jump after the layer's own stride with ``jump_after``)."""
    size, jump = plus, 1
    for k, s in stack:
        size += (k - 1) * ((jump * s if jump_after else jump) if use_jump else 1)
        jump *= s
    return size


def receptive_field_checker():
    from pooling_lib.receptive_field import conv, pool
    steps = [conv(3), pool(2), conv(5), conv(3)]
    right = field_by_hand(FIELD_STACK)                                          # 16
    kernels = [k for k, _ in FIELD_STACK]
    raw = [("kernels added", sum(kernels), "adds up the kernel sizes"),
           ("jump ignored", field_by_hand(FIELD_STACK, use_jump=False), "leaves out the jump"),
           ("kernels multiplied", math.prod(kernels), "Multiplying the kernel sizes"),
           ("last layer forgotten", field_by_hand(FIELD_STACK[:-1]), "one layer before the end"),
           ("first layer forgotten", field_by_hand(FIELD_STACK[1:]), "leaves out the first layer"),
           ("jump after the stride", field_by_hand(FIELD_STACK, jump_after=True),
            "jump after its own stride"),
           ("started at 0", field_by_hand(FIELD_STACK, plus=0), "Off by one"),
           ("only the pooling", field_by_hand([(2, 2)]), "counts only the pooling"),
           ("pooling left out", field_by_hand([(3, 1), (5, 1), (3, 1)]), "leaves out the pooling"),
           ("a slip", right + 5, "Go layer by layer"),
           ("a pair", (right, right), "Give one whole number"),
           ("half a cell", right + 0.5, "not a whole number"), ("text", "16", "text")]
    return Checker("check_receptive_field_size (14: conv 3, pool 2, conv 5, conv 3)",
                   lambda a: ex.check_receptive_field_size(a, steps), forms_of_whole(right),
                   [mutant(*m) for m in raw], JUNK_VALUES)


# --- what replaces pooling (notebook 15) --------------------------------------------------------

def average_kernel_checker():
    C, k = 3, 2
    right = np.zeros((C, C, k, k))
    for c in range(C):
        right[c, c] = 0.25
    looped = [[[[0.25 if o == c else 0.0] * k] * k for c in range(C)] for o in range(C)]
    eye = np.eye(C)[:, :, None, None] * np.ones((k, k))
    rights = [*forms_of_array(right)[:5], ("nested loops as lists", looped),
              ("identity times a quarter", eye / 4), ("rounded", np.round(right, 2))]
    raw = [("ones", eye, "adds the 4 cells up"),
           ("one over k", eye / k, "holds 4 cells, not 2"),
           ("every pair", np.full((C, C, k, k), 0.25), "adds the averages of all 3 channels"),
           ("mixing channels", np.full((C, C, k, k), 1 / 12), "averages over the 3 channels"),
           ("one kernel", np.full((k, k), 0.25), "yours (2, 2)"),
           ("one per channel", np.full((C, k, k), 0.25), "yours (3, 2, 2)"),
           ("a transposed shape", np.zeros((k, k, C, C)), "has shape (2, 2, 3, 3)"),
           ("one cell off", right + np.eye(C)[:, :, None, None] * [[0, 0], [0, 0.5]],
            "weight[0, 0, 1, 1] is 0.75; it should be 1/4"),
           ("a stray weight", right + np.pad([[[[0.1]]]], ((0, 2), (1, 1), (0, 1), (0, 1))),
            "weight[0, 1, 0, 0] is 0.1; it should be 0"),
           ("text", "0.25", "text")]
    return Checker("check_average_kernel (15: 3 channels, 2 × 2)",
                   lambda a: ex.check_average_kernel(a, C, k), rights, [mutant(*m) for m in raw],
                   JUNK_VALUES)


# --- notebooks 09 and 10 -----------------------------------------------------------------------

def im2col_checker():
    shape, F, S = (16, 32, 28, 28), 3, 2
    out = (28 - F) // S + 1
    K, L, planes = F * F, out * out, 16 * 32
    raw = [("the input", math.prod(shape), "size of the input"), ("the output", planes * L, "size of the output"),
           ("one plane", K * L, "one plane"), ("K per input cell", planes * K * 28 * 28, "Count the windows"),
           ("L / S", planes * K * (28 // S) ** 2, "floor((L − F) / S) + 1"),
           ("channels forgotten", 16 * K * L, "both the batch size N and the channels C"),
           ("batch forgotten", 32 * K * L, "both the batch size N and the channels C"),
           ("half", planes * K * L + 0.5, "not a whole number")]
    return Checker("check_im2col_size", lambda a: ex.check_im2col_size(a, shape, F, S),
                   forms_of_whole(planes * K * L), [mutant(*m) for m in raw], JUNK_VALUES)


def tiles(x, k, split=None):
    N, C, H, W = x.shape
    return x.reshape(split or (N, C, H // k, k, W // k, k))


def reshape_checker():
    rights = [("reshape and max", lambda x, k: tiles(x, k).max(axis=(3, 5))),
              ("max twice", lambda x, k: tiles(x, k).max(axis=5).max(axis=3)),
              ("as lists", lambda x, k: tiles(x, k).max(axis=(3, 5)).tolist())]
    mutants = [
        mutant("window axes", lambda x, k: tiles(x, k).max(axis=(2, 4)), "reduced axes 2 and 4"),
        mutant("spread out", lambda x, k: tiles(x, k, x.shape[:2] + (k, x.shape[2] // k, k, x.shape[3] // k))
               .max(axis=(2, 4)), "spread out"),
        mutant("mixed rows", lambda x, k: tiles(x, k, x.shape[:2] + (x.shape[2] // k, x.shape[3] // k, k, k))
               .max(axis=(4, 5)), "mixes rows"),
        mutant("average", lambda x, k: tiles(x, k).mean(axis=(3, 5)), "computed the averages"),
        mutant("one axis", lambda x, k: tiles(x, k).max(axis=3), "reduce both k-sized axes"),
        mutant("fixed shape", lambda x, k: x.reshape(1, 1, 2, 2, 2, 2).max(axis=(3, 5)), "raised ValueError"),
        mutant("forgot return", forgot_return_reshape, "does it end with a return"),
    ]
    return Checker("check_reshape_pool", ex.check_reshape_pool, rights, mutants, CODE_JUNK)


def forgot_return_reshape(x, k):
    out = tiles(x, k).max(axis=(3, 5))    # noqa: F841 (the slip under test)


def dense_checker():
    from pooling_lib.cnn.nn import make_cnn
    network = make_cnn(None)
    raw = [("no biases", 10_240, "but not the biases"), ("pooled network", 2_570, "with 2×2 pooling"),
           ("pooled, no biases", 2_560, "And add the 10 biases"), ("whole network", 10_410, "the whole network"),
           ("bias per input", 11_264, "not one per input"), ("added", 1_034, "multiply"),
           ("one per channel", 170, "not one per channel"), ("true", True, "truth value")]
    return Checker("check_dense_parameters", lambda a: ex.check_dense_parameters(a, network),
                   forms_of_whole(16 * 8 * 8 * 10 + 10), [mutant(*m) for m in raw], JUNK_VALUES)


def layer_shape_checker():
    from pooling_lib.cnn.nn import make_cnn
    network = make_cnn("max")
    right = (32, 16, 4, 4)
    rights = [("tuple", right), ("list", list(right)), ("array", np.array(right)),
              ("numpy ints", tuple(np.int64(v) for v in right)), ("floats", tuple(float(v) for v in right)),
              ("a shape", np.zeros(right).shape)]
    raw = [("batch dropped", (16, 4, 4), "Keep the batch axis"),
           ("input shape", (32, 16, 8, 8), "floor((8 − 2) / 2) + 1 = 4"),
           ("channels last", (32, 4, 4, 16), "channels before the height"),
           ("channels pooled", (32, 8, 4, 4), "the 16 channels stay 16"),
           ("image channels", (32, 1, 4, 4), "1 channel into 16 feature maps"),
           ("flattened", (32, 256), "comes out of Flatten"), ("batch of one", (1, 16, 4, 4), "images in the batch: 32"),
           ("a count", 32 * 16 * 4 * 4, "how many numbers come out"), ("text", "32x16x4x4", "tuple of sizes"),
           ("a set", {32, 16, 4}, "keeps the axes in order"), ("fractional size", (32, 16, 4.5, 4), "not a size"),
           ("a bool", (32, 16, True, 4), "not a size")]
    return Checker("check_layer_shape", lambda a: ex.check_layer_shape(a, network, "MaxPool", batch=32),
                   rights, [mutant(*m) for m in raw], JUNK_VALUES)


# --- the register ------------------------------------------------------------------------------

def checkers():
    return [
        size_checker("check_output_size (01: 8, 3, 2)", 8, 3, 2),
        size_checker("check_output_size (05 q1: 7, 3, 2, P 1)", 7, 3, 2, 1),
        size_checker("check_output_size (05 q2: 8, 3, 2, P 1, ceil)", 8, 3, 2, 1, ceil=True),
        size_checker("check_output_size (05 q3: 11, 3, 2, 'same')", 11, 3, 2, "same"),
        size_checker("check_output_size (10, 3, 1, d 3)", 10, 3, 1, 0, 3),
        size_checker("check_output_size (ceil drop: 4, 2, 3, P 1)", 4, 2, 3, 1, ceil=True),
        size_checker("check_output_size (9, 4, 2, P 2)", 9, 4, 2, 2),
        size_checker("check_output_size (15: 28, 3, 2, P 1, a strided conv)", 28, 3, 2, 1),
        pool_count_checker("check_pool_count (00: 6, 2, 2)", 6, 2, 2),
        pool_count_checker("check_pool_count (7, 3, 2)", 7, 3, 2),
        pooled_checker("check_pooled (01: max 2, 2)", np.array(
            [[2, 0, 1, 3, 1], [4, 1, 0, 2, 5], [5, 3, 8, 1, 0], [0, 6, 2, 7, 4], [9, 1, 3, 0, 2]]), 2, 2, "max"),
        pooled_checker("check_pooled (02: avg 2, 2)", np.array(
            [[1, 3, 0, 2], [5, 7, 4, 6], [2, 2, 9, 1], [0, 4, 3, 3]]), 2, 2, "avg"),
        pooled_checker("check_pooled (02: max 2, 1)", np.array(
            [[1, 3, 0, 2], [5, 7, 4, 6], [2, 2, 9, 1], [0, 4, 3, 3]]), 2, 1, "max"),
        pooled_checker("check_pooled (avg 3, 1: thirds)", distinct_input(5), 3, 1, "avg"),
        forward_checker("max"), forward_checker("avg"),
        backward_checker("max"), backward_checker("avg"),
        cells_checker("check_gradient_cells (04: 3, 1, cell (1, 2))", Q, 3, 1, (1, 2)),
        tie_cells_checker(), tie_exercise_checker(),
        input_gradient_checker(), avg_input_gradient_checker(),
        padded_average_checker(True), padded_average_checker(False), bins_checker(),
        im2col_checker(), reshape_checker(), dense_checker(), layer_shape_checker(),
        feature_value_checker(), power_mean_checker(), blur_pool_checker(),
        receptive_field_checker(), average_kernel_checker(),
    ]


CHECKERS = checkers()


def params(kind):
    out = []
    for checker in CHECKERS:
        for item in getattr(checker, kind):
            label = item[0] if kind != "junk" else type(item).__name__
            out.append(pytest.param(checker, item, id=f"{checker.name}: {label}"))
    return out


@pytest.mark.parametrize("checker, item", params("rights"))
def test_every_right_answer_passes(checker, item):
    name, answer = item
    verdict = checker.check(answer)
    assert verdict, f"{checker.name}, {name}: {verdict!r}"
    assert repr(verdict).startswith("✓")


@pytest.mark.parametrize("checker, item", params("mutants"))
def test_every_mutant_is_killed_with_its_diagnosis(checker, item):
    verdict = checker.check(item.answer)
    assert not verdict, f"{checker.name}: the mutant '{item.name}' passed: {verdict!r}"
    for phrase in item.phrases:
        assert phrase in repr(verdict), f"{checker.name}, '{item.name}': {verdict!r}"


@pytest.mark.parametrize("checker, item", params("junk"))
def test_junk_never_raises(checker, item):
    verdict = checker.check(item)
    assert isinstance(verdict, ex.Feedback) and not verdict
    assert isinstance(verdict.text, str) and verdict.text


def test_unanswered_gets_the_reminder_everywhere():
    for checker in CHECKERS:
        for answer in (..., None):
            verdict = checker.check(answer)
            assert not verdict and "Not answered yet" in repr(verdict), checker.name


def test_the_inputs_make_the_mutants_mortal():
    """The backward cases use upstream gradients that are not all ones and not symmetric, tied
    maxima and overlapping windows: without them = for +=, an ignored or transposed gradient
    and the last-tie rule would pass."""
    found = list(ex.backward_cases())
    assert all(not np.all(c.grad == 1) for c in found)
    square = [c for c in found if c.grad.shape[-1] == c.grad.shape[-2]]
    assert square and all(not np.array_equal(c.grad, c.grad.swapaxes(-1, -2)) for c in square)
    overlapping = [c for c in found if c.S < c.pool]
    assert len(overlapping) >= 3
    tied = [c for c in found if not np.array_equal(pl.max_pool2d_backward(c.grad, c.x, c.pool, c.S),
                                                   pl.max_pool2d_backward(c.grad, c.x, c.pool, c.S,
                                                                          ties="last"))]
    assert len(tied) >= 2
    # the hand exercises of notebook 05 too
    acc = ex.Case(ACC_X.astype(float), 3, 1, ACC_GRAD.astype(float))
    assert not np.array_equal(ex._backward(acc, "max"), hand_max_gradient(ACC_X, ACC_GRAD, 3, 1, "last"))


def kill_rates():
    """{checker name: (mutants killed with their diagnosis, mutants)}."""
    rates = {}
    for checker in CHECKERS:
        killed = 0
        for item in checker.mutants:
            verdict = checker.check(item.answer)
            killed += not verdict and all(p in repr(verdict) for p in item.phrases)
        rates[checker.name] = (killed, len(checker.mutants))
    return rates


def test_kill_rate_is_total():
    assert all(killed == total for killed, total in kill_rates().values()), kill_rates()


if __name__ == "__main__":
    total = [0, 0]
    for name, (killed, count) in kill_rates().items():
        print(f"{name:60} {killed:3} / {count:<3}")
        total[0] += killed
        total[1] += count
    print(f"{'all checkers':60} {total[0]:3} / {total[1]:<3}")
