"""Instant feedback for the "your turn" cells of the notebooks.

Every ``check_...`` function returns a :class:`Feedback`: it shows as one line saying that the
answer is right (and why), or what exactly is wrong with it, and it is truthy only when right.
An answer left as ``...`` gets a reminder, not an error. No answer, however odd, makes a
checker raise: None, text, a wrong shape, NaN, code that raises or returns nothing all get a
sentence.

Every checker reads answers the same way:

- **Whole numbers** (a count, a size, a coordinate): an ``int``, a NumPy integer, a 0-d array,
  or a float that is exactly whole (``4.0``). ``True``/``False``, ``4.5``, NaN, text, lists
  and (for a count) negative numbers are refused, with a message saying why.
- **Numbers**: any int or float (NumPy ones and 0-d arrays too), but not a bool, NaN or text.
- **Arrays**: nested lists or arrays of any integer or float dtype, compared by value. A number
  worked out by hand may also be rounded correctly to two or more decimals (``5.56`` for 50/9).
- **Cells** ``(row, column)``: one pair, or a list, tuple or set of pairs, in any order.

A wrong answer that a classic mistake explains gets that mistake's name; when two mistakes give
the same answer, both are named.
"""
import ast
import html
import inspect
import math
import numbers
import textwrap
from typing import NamedTuple

import numpy as np

from .. import fast
from ..geometry import bins, formula_size, plan
from ..layers import MODES

OTHER_MODE = {"max": "avg", "avg": "max"}  # the mode a student may have mixed up with this one


# The verdict's mark in a notebook: drawn (an inline SVG), so it never depends on an emoji font;
# the text keeps the theme's own colour, readable on light and dark backgrounds alike.
MARK = {True: ("#1a7f37", "M4.5 8.5l2.5 2.5 4.5-5.5", "right"),
        False: ("#cf222e", "M5 5l6 6M11 5l-6 6", "not yet")}


class Feedback:
    """The verdict on an answer: ``ok`` and a sentence for the student.

    It shows as the sentence after a mark: in a notebook a green tick or a red cross drawn in
    SVG, as text ``✓`` or ``✗`` (plain symbols every common font has, no emoji)."""

    def __init__(self, ok, text):
        self.ok, self.text = bool(ok), text

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return ("✓ " if self.ok else "✗ ") + self.text

    def _repr_html_(self):
        colour, path, label = MARK[self.ok]
        mark = (f'<svg width="16" height="16" viewBox="0 0 16 16" role="img" aria-label="{label}" '
                f'style="flex:none;margin-top:2px"><circle cx="8" cy="8" r="8" fill="{colour}"/>'
                f'<path d="{path}" stroke="#fff" stroke-width="2" stroke-linecap="round" '
                f'fill="none"/></svg>')
        return (f'<div class="pooling-feedback" style="display:flex;gap:0.5em;align-items:flex-start;'
                f'border-left:4px solid {colour};padding:0 0.6em">{mark}'
                f'<span>{html.escape(self.text)}</span></div>')


def right(text):
    return Feedback(True, text)


def wrong(text):
    return Feedback(False, text)


TODO = Feedback(False, "Not answered yet: replace the ... with your answer and run the cell again.")


def unanswered(answer):
    return answer is None or answer is Ellipsis


# --- reading answers ---------------------------------------------------------------------------

def _show(value, limit=60):
    """``repr(value)``, shortened; never raises (a student's object may have a broken repr)."""
    try:
        text = repr(value)
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _scalar(value):
    """A 0-d array's value; anything else unchanged."""
    return value[()] if isinstance(value, np.ndarray) and value.shape == () else value


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _as_whole(value):
    """``value`` as an int if it is a whole number (see the module's rule), else None."""
    value = _scalar(value)
    if _is_bool(value):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        try:
            number = float(value)
        except Exception:
            return None
        if math.isfinite(number) and number.is_integer():
            return int(number)
    return None


def _as_number(value):
    """(``value`` as a float, None) for a finite int or float, else (None, why not)."""
    value = _scalar(value)
    if _is_bool(value):
        return None, f"{value} is a truth value, not a number."
    if isinstance(value, (str, bytes)):
        return None, f"{_show(value)} is text: write the number itself, without quotes."
    if isinstance(value, numbers.Real):
        try:
            number = float(value)
        except Exception:
            return None, f"{_show(value)} is not a number I can read."
        if math.isfinite(number):
            return number, None
        return None, f"{number} is not a value a window can have: write a finite number."
    if isinstance(value, (list, tuple, set, dict, np.ndarray)):
        return None, f"Give one number, not {_kind(value)}."
    return None, f"Give a number, not {_show(value)}."


def _kind(value):
    """A student's name for the type of ``value``: a list, a tuple, an array..."""
    name = {"ndarray": "array"}.get(type(value).__name__, type(value).__name__)
    return ("an " if name[0] in "aeiou" else "a ") + name


def _whole_problem(answer, what):
    """Why ``answer`` is not read as a whole number of ``what``."""
    value = _scalar(answer)
    if _is_bool(value):
        return f"{value} is a truth value, not a number of {what}: write a whole number, such as 4."
    number, problem = _as_number(value)
    if number is not None:  # finite, not whole
        return f"{number:g} is not a whole number: {what} come whole."
    if isinstance(value, (list, tuple, set, dict, np.ndarray)):
        return f"Give one whole number of {what}, not {_kind(value)}."
    if isinstance(value, numbers.Real):  # NaN or infinite
        return f"{_show(value)} is not a number of {what}: write a whole number, such as 4."
    if isinstance(value, (str, bytes)):
        return problem
    return f"Give a whole number of {what}, not {_show(value)}."


def _count(answer, what):
    """(``answer`` as a count of ``what``, None), or (None, why it is not one)."""
    value = _as_whole(answer)
    if value is None:
        return None, _whole_problem(answer, what)
    if value < 0:
        return None, f"{value} is negative: a number of {what} is 0 or more."
    return value, None


def _as_numbers(answer):
    """(float array, None) for nested lists or an array of ints and floats, else (None, why not)."""
    try:
        raw = np.asarray(answer)
    except Exception:  # ragged rows, or an object that refuses to become an array
        return None, "Your rows have different lengths (or hold something that is not a number)."
    kind = raw.dtype.kind
    if kind in "iuf":
        return raw.astype(float), None
    if kind == "b":
        return None, "True/False values are not numbers here."
    if kind in "US":
        return None, "That is text: write numbers, without quotes."
    if kind == "O":
        bad = [v for v in raw.ravel() if _is_bool(v) or not isinstance(v, numbers.Real)]
        if not bad:
            try:
                return raw.astype(float), None
            except Exception:
                bad = [answer]
        return None, f"Write numbers only; {_show(bad[0])} is not one."
    return None, f"Write real numbers, not values of dtype {raw.dtype}."


def _agree(a, b, rounded=False):
    """Do arrays ``a`` and ``b`` have one shape and the same values? With ``rounded``, a value of
    ``a`` may also be ``b``'s value correctly rounded to 2–6 decimals (keeping 2 significant
    digits): how a number worked out by hand is written."""
    if a is None or b is None:
        return False
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(_agree_cells(a, b, rounded).all())


def _agree_cells(a, b, rounded=False):
    """Cell by cell, :func:`_agree` (``a`` and ``b`` of one shape)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(all="ignore"):
        close = np.isclose(a, b, rtol=1e-5, atol=1e-8)
        if rounded:
            for digits in range(2, 7):
                step = 10.0 ** -digits
                decimal = np.isclose(a / step, np.round(a / step), rtol=0, atol=1e-6)
                close |= decimal & (np.abs(a - b) <= step / 2 + 1e-9) & (np.abs(b) >= 10 * step)
    return close


def _signed(n):
    """An int with a true minus sign: −1."""
    return f"−{-n}" if n < 0 else str(n)


def _num(value):
    """A number as a student would write it: 4, 2.5, 0.333333."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _diagnose(hints):
    """The text for an answer that one or several classic mistakes explain: when two slips give
    the same answer, the student hears of both."""
    hints = list(dict.fromkeys(hints))
    if len(hints) == 1:
        return hints[0]
    count = {2: "Two", 3: "Three", 4: "Four"}.get(len(hints), str(len(hints)))
    return (f"{count} slips give this same answer; check each: "
            + " ".join(f"({k}) {hint}" for k, hint in enumerate(hints, 1)))


def _first_difference(result, expected, name):
    """Where ``result`` first differs from ``expected`` (its shape, or a cell), or None."""
    result, expected = np.asarray(result, float), np.asarray(expected, float)
    if result.shape != expected.shape:
        return f"{name} has shape {result.shape}, expected {expected.shape}"
    bad = np.argwhere(~np.isclose(result, expected))
    if len(bad):
        where = tuple(int(i) for i in bad[0])
        return f"{name}{list(where)} is {result[where]:g}, expected {expected[where]:g}"
    return None


class _Skip(Exception):
    """A mistake that cannot be made on this case (e.g. transposing a non-square output)."""


def _skip():
    raise _Skip


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


def _size_mistakes(size, pool, stride, padding, dilation, ceil_mode, expected):
    """(wrong answer, what it tells) for the usual slips in the output-size formula: each one
    leaves out or bends a single step."""
    if padding == "same":
        return [
            (size // stride, "Round up: 'same' gives ceil(L / S) windows, the last one may use "
                             "the padding."),
            (size, f"'same' keeps the length only at stride 1; with stride {stride} it gives "
                   "ceil(L / S) windows."),
            (formula_size(size, pool, stride, 0, dilation, False),
             "That is 'valid' (no padding). 'same' pads just enough for ceil(L / S) windows."),
        ]
    P = 0 if padding == "valid" else padding
    eff = dilation * (pool - 1) + 1

    def formula(L=size, P=P, eff=eff, S=stride, up=ceil_mode, plus=1):
        span = L + 2 * P - eff
        return (-(-span // S) if up else span // S) + plus

    rounding = (formula(up=not ceil_mode),
                "With ceil_mode=True, round up: the last, partial window is kept." if ceil_mode
                else "Round down (floor): a window that would stick out past the input (and its "
                     "padding) is dropped.")
    mistakes = [rounding] if ceil_mode else []  # the point of a ceil_mode question comes first
    mistakes.append((formula(plus=0), "You left out the + 1: the window in its first place "
                                      "counts too, before any stride."))
    if P:
        mistakes += [(formula(P=0), f"You forgot the padding: the padded row has L + 2P = "
                                    f"{size + 2 * P} cells."),
                     (formula(L=size - P), "Padding goes on both sides: L + 2P, not L + P.")]
    if dilation > 1:
        mistakes.append((formula(eff=pool), f"A dilated window spans d·(F − 1) + 1 = {eff} "
                                            f"cells, not {pool}."))
    if stride > 1:
        mistakes.append((formula(S=1), f"The window moves S = {stride} cells at a time: divide "
                                       "by S."))
    if not ceil_mode:
        mistakes.append(rounding)
    if ceil_mode and formula() > expected:
        start = (formula() - 1) * stride - P
        mistakes.append((formula(), f"Rounding up is right, but then the last window would "
                                    f"start at cell {start}, past the input and the left "
                                    "padding: it is dropped."))
    mistakes.append(((size + 2 * P) // stride, "Divide the distance the window can travel, "
                                               "L + 2P − F, not the whole length."))
    return mistakes


def check_output_size(answer, size, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Is ``answer`` the number of windows along an axis of ``size`` cells?"""
    if unanswered(answer):
        return TODO
    stride = pool_size if stride is None else stride
    expected = plan((size, size), pool_size, stride, padding, dilation, ceil_mode)[0].out
    working = output_size_working(size, pool_size, stride, padding, dilation, ceil_mode)
    value, problem = _count(answer, "windows")
    if value is None:
        number, _ = _as_number(answer)
        if number is not None and not float(number).is_integer():
            way = "up (ceil)" if ceil_mode or padding == "same" else "down (floor)"
            return wrong(f"{number:g} is not a whole number: windows come whole, and here the "
                         f"formula rounds {way}.")
        return wrong(problem)
    if value == expected:
        return right(f"{value} windows: {working}.")
    hints = [hint for v, hint in _size_mistakes(size, pool_size, stride, padding, dilation,
                                                  ceil_mode, expected) if v == value]
    if hints:
        return wrong(f"{value} is not it. {_diagnose(hints)}")
    if padding == "same":
        return wrong(f"{value} is not it. With 'same' padding, out = ceil(L / S).")
    if ceil_mode:
        return wrong(f"{value} is not it. Use out = ceil((L + 2P − d·(F − 1) − 1) / S) + 1, and drop "
                     "the last window if it would start past the input and the left padding.")
    return wrong(f"{value} is not it. Use out = floor((L + 2P − d·(F − 1) − 1) / S) + 1.")


def check_pool_count(answer, size, pool_size, stride=None):
    """Is ``answer`` the number of pools (windows) over a ``size`` x ``size`` input?"""
    if unanswered(answer):
        return TODO
    value, problem = _count(answer, "pools")
    if value is None:
        return wrong(problem)
    stride = pool_size if stride is None else stride
    per_axis = plan((size, size), pool_size, stride)[0].out
    if value == per_axis ** 2:
        return right(f"{per_axis} windows across × {per_axis} down = {value} pools.")
    mistakes = [
        (per_axis, "That is the count along one row; the windows also move down: "
                   "rows × columns."),
        ((per_axis - 1) ** 2, "You left out the + 1 on each axis: the window in its first place "
                              "counts too."),
        (2 * per_axis, "You added the windows across and down; multiply them: rows × columns."),
        (size * size, "That is the number of input cells. Count the windows instead."),
        ((size // stride) ** 2, "Count the positions along one axis with floor((L − F) / S) + 1, "
                                "not L / S."),
    ]
    if stride != 1:
        mistakes.append((plan((size, size), pool_size, 1)[0].out ** 2,
                         f"The windows move {stride} cells at a time, not 1."))
    hints = [hint for v, hint in mistakes if v == value]
    if hints:
        return wrong(f"{value} is not it. {_diagnose(hints)}")
    return wrong(f"{value} is not it. Count the positions along one axis first "
                 f"(floor((L − F) / S) + 1), then multiply by the other axis.")


# --- values ----------------------------------------------------------------------------------

class Case(NamedTuple):
    """One test of an answer: an input, the pooling settings and, for a backward pass, the
    upstream gradient ``grad`` (dL/dy)."""
    x: np.ndarray
    pool: int
    stride: object = None
    grad: object = None

    @property
    def S(self):
        return self.pool if self.stride is None else self.stride


def _explained(mistake, runs, rounded=False):
    """Does ``mistake`` (a function of a :class:`Case`) give the answer of every run
    ``(case, expected, answer)``, and differ from the right answer on at least one?"""
    differs = False
    for case, expected, answer in runs:
        try:
            with np.errstate(all="ignore"):
                value = np.asarray(mistake(case), float)
        except Exception:  # a slip that cannot happen on this case
            continue
        if not _agree(answer, value, rounded):
            return False
        differs = differs or not _agree(value, expected)
    return differs


def _loop_forward(case, mode, window=None):
    """Pooling as loops over the windows (no padding); windows of ``window`` cells per side
    instead of ``pool`` give the off-by-one slip ``x[i*S : i*S + F - 1]``."""
    x, pool, S = np.asarray(case.x, float), case.pool, case.S
    span = pool if window is None else window
    if span < 1:
        _skip()
    rows, cols = plan(x.shape[-2:], pool, S)
    out = np.zeros(x.shape[:-2] + (rows.out, cols.out))
    reduce = np.max if mode == "max" else np.mean
    for p in np.ndindex(x.shape[:-2]):
        for i in range(rows.out):
            for j in range(cols.out):
                out[p + (i, j)] = reduce(x[p][i * S:i * S + span, j * S:j * S + span])
    return out


SHORT_WINDOWS = ("Your windows are one cell short: window (i, j) covers rows i·S to "
                 "i·S + F − 1, F cells in all (the slice i·S : i·S + F).")


def _forward(case, mode, **settings):
    return MODES[mode].forward(case.x, case.pool, case.stride, **settings)


def _forward_mistakes(mode):
    """(hint, f(case)) for the classic slips of a forward pass in ``mode``."""
    other = OTHER_MODE[mode]
    mistakes = [
        ("Those are the averages of the windows; this one asks for the largest value."
         if mode == "max" else
         "Those are the maxima of the windows; this one asks for the mean value.",
         lambda c: _forward(c, other)),
        ("Rows and columns are swapped: output cell (i, j) comes from input rows i·S to "
         "i·S + F − 1 and columns j·S to j·S + F − 1.",
         lambda c: _forward(c, mode).swapaxes(-1, -2)),
        (SHORT_WINDOWS,
         lambda c: _loop_forward(c, mode, window=c.pool - 1)),
        ("The windows move S cells at a time, not 1.",
         lambda c: MODES[mode].forward(c.x, c.pool, 1) if c.S != 1 else _skip()),
        ("The windows move S cells at a time, not a whole window (F).",
         lambda c: MODES[mode].forward(c.x, c.pool, c.pool) if c.S != c.pool else _skip()),
        ("A window that would stick out past the edge is dropped, not kept: the formula rounds "
         "down.",
         lambda c: _forward(c, mode, ceil_mode=True)),
        ("One window too few along each axis: the + 1 of the formula counts the window in its "
         "first place.",
         lambda c: _forward(c, mode)[..., :-1, :-1]),
    ]
    if mode == "avg":
        mistakes += [
            ("Those are the window sums: divide each by the F·F cells of its window.",
             lambda c: _forward(c, mode) * c.pool ** 2),
            ("Divide by all F·F cells of the window, not by F.",
             lambda c: _forward(c, mode) * c.pool),
        ]
    return mistakes


def check_pooled(answer, x, pool_size, stride=None, mode="max"):
    """Is ``answer`` the max (``mode="max"``) or average (``"avg"``) pooling of ``x`` (H, W)?"""
    if unanswered(answer):
        return TODO
    case = Case(np.asarray(x), pool_size, stride)
    expected = _forward(case, mode)
    given, problem = _as_numbers(answer)
    if problem:
        return wrong(f"{problem} Write your answer as a list of rows, like [[1, 2], [3, 4]].")
    if _agree(given, expected, rounded=True):
        return right(f"That is the {'maximum' if mode == 'max' else 'average'} of every window.")
    hints = [hint for hint, mistake in _forward_mistakes(mode)
             if _explained(mistake, [(case, expected, given)], rounded=True)]
    if hints:
        return wrong(_diagnose(hints))
    if given.shape != expected.shape:
        if given.size == expected.size and _agree(given.reshape(expected.shape), expected, True):
            return wrong(f"The right numbers, but your answer has shape {given.shape}: write them "
                         f"as a list of rows, the output has shape {expected.shape}.")
        return wrong(f"Your answer has shape {given.shape}, the output has shape {expected.shape}: "
                     f"count the windows along each axis.")
    where = tuple(int(i) for i in np.argwhere(~_agree_cells(given, expected, True))[0])
    cell = ", ".join(map(str, where))
    return wrong(f"Output cell ({cell}) should be {_num(expected[where])}, you have "
                 f"{_num(given[where])}. Which input cells does window ({cell}) cover?")


# --- code ------------------------------------------------------------------------------------

CASES = [  # (input shape, pool, stride): one channel, channels, a batch, overlaps, leftovers
    ((4, 4), 2, 2), ((5, 5), 3, 1), ((3, 6, 6), 2, 2), ((2, 3, 5, 7), 3, 2), ((2, 2, 7, 7), 2, 3),
]


def cases(seed=0):
    """Test inputs with distinct values (so the winner of every window is unambiguous)."""
    rng = np.random.default_rng(seed)
    for shape, pool, stride in CASES:
        yield rng.permutation(math.prod(shape)).reshape(shape).astype(float), pool, stride


BACKWARD_CASES = [  # (input shape, pool, stride, tied maxima?)
    ((4, 4), 2, 2, False),       # windows side by side: = and += agree here
    ((5, 5), 3, 1, False),       # every window overlaps its neighbours
    ((6, 6), 2, 1, True),        # overlaps and ties
    ((3, 4, 4), 2, 2, True),     # channels, ties
    ((2, 3, 5, 7), 3, 2, False),  # a batch, overlaps, an oblong output
    ((2, 2, 7, 7), 2, 3, False),  # leftover edges
]


def backward_cases(seed=1):
    """The :class:`Case` s of :func:`check_backward`. The upstream gradients are the whole
    numbers 1, 2, 3, ... shuffled: never all ones, never symmetric, so a slip with the gradient
    shows. Inputs with ties hold only 0, 1 and 2; the others are distinct."""
    rng = np.random.default_rng(seed)
    for shape, pool, stride, ties in BACKWARD_CASES:
        x = rng.integers(0, 3, shape) if ties else rng.permutation(math.prod(shape)).reshape(shape)
        rows, cols = plan(shape[-2:], pool, stride)
        out = shape[:-2] + (rows.out, cols.out)
        grad = (rng.permutation(math.prod(out)) + 1).reshape(out)
        yield Case(x.astype(float), pool, stride, grad.astype(float))


def _where(case):
    return f"On an input of shape {case.x.shape} with pool {case.pool}, stride {case.S}"


def _call(student, case):
    """Run a student's function ``f(x, pool, stride)`` / ``f(grad, x, pool, stride)`` or a layer
    class ``C(pool, stride)`` with ``forward`` / ``backward`` on copies of the case's arrays.
    Returns the result and the function that made it."""
    x = case.x.copy()
    if isinstance(student, type):
        layer = student(case.pool, case.stride)
        output = layer.forward(x)
        if case.grad is None:
            return output, getattr(student, "forward", student)
        return layer.backward(case.grad.copy(), 0.0), getattr(student, "backward", student)
    if case.grad is None:
        return student(x, case.pool, case.stride), student
    return student(case.grad.copy(), x, case.pool, case.stride), student


def _is_constant(statement, test):
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and test(statement.value.value))


def _is_stub(code):
    """True if the body of function ``code`` is still only ``...`` (or ``pass``) under its
    docstring, False if it holds code; None when its source cannot be read."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(code)))
    except Exception:
        return None
    functions = [node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not functions:
        return None
    body = functions[0].body
    if body and _is_constant(body[0], lambda v: isinstance(v, str)):
        body = body[1:]
    return all(isinstance(s, ast.Pass) or _is_constant(s, lambda v: v is Ellipsis) for s in body)


def _returned_none(code):
    stub = _is_stub(code)
    if stub:
        return TODO
    if stub is False:
        return wrong("Your code returned None: does it end with a return?")
    return wrong("Not answered yet, or a missing return: your code returned None. Replace the ... "
                 "with your code, and end it with return.")


def _error_text(error):
    try:
        text = str(error)
    except Exception:
        text = ""
    return text if len(text) <= 200 else text[:199] + "…"


def _judge(student, tests, expected_of, mistakes, name, praise):
    """Run the student's code on every :class:`Case` of ``tests`` and compare it with
    ``expected_of(case)``. A wrong result is named by the ``(hint, f(case))`` of ``mistakes``
    that gives the student's result on every case run (and is wrong on one of them)."""
    if not callable(student):
        return wrong("Pass your function (or layer class) itself: its name, without brackets, "
                     f"not {_show(student)}.")
    runs = []

    def failed():
        return any(not _agree(result, expected) for _, expected, result in runs)

    for case in tests:
        expected = expected_of(case)
        try:
            result, code = _call(student, case)
        except Exception as error:  # the student's code: report, never crash the notebook
            if failed():
                break
            planes = (" It was right on the (H, W) inputs before this one: loop over every "
                      "plane, for p in np.ndindex(x.shape[:-2])."
                      if case.x.ndim > 2 and runs and all(c.x.ndim == 2 for c, _, _ in runs)
                      else "")
            text = _error_text(error)
            stop = "" if not text or text[-1] in ".!?" else "."
            return wrong(f"{_where(case)}, your code raised {type(error).__name__}: "
                         f"{text}{stop}{planes}")
        if result is Ellipsis:
            return TODO
        if result is None:
            if failed():
                break
            return _returned_none(code)
        array, problem = _as_numbers(result)
        if problem:
            if failed():
                break
            return wrong(f"{_where(case)}, your code returned {_show(result)}. {problem}")
        runs.append((case, expected, array))
    bad = [(case, expected, result) for case, expected, result in runs
           if not _agree(result, expected)]
    if not bad:
        return right(praise)
    case, expected, result = bad[0]
    detail = _first_difference(result, expected, name)
    hints = [hint for hint, mistake in mistakes if _explained(mistake, runs)]
    if hints:
        return wrong(f"{_where(case)}: {_diagnose(hints)} ({detail})")
    return wrong(f"{_where(case)}: {detail}.")


def check_forward(student, mode="max"):
    """Does the student's forward pass (function or layer class) match ``pooling_lib``?"""
    if unanswered(student):
        return TODO
    tests = [Case(x, pool, stride) for x, pool, stride in cases()]
    one_plane = ("Your code returned one (H, W) plane for an input with more axes: pool every "
                 "plane, for p in np.ndindex(x.shape[:-2]).",
                 lambda c: _forward(c, mode)[(0,) * (c.x.ndim - 2)] if c.x.ndim > 2 else _skip())
    return _judge(student, tests, lambda c: _forward(c, mode),
                  _forward_mistakes(mode) + [one_plane], "output",
                  f"Your forward pass matches pooling_lib on {len(tests)} inputs: one channel, "
                  "several channels, a batch, overlapping windows and leftover edges.")


def _backward(case, mode, **settings):
    if mode == "max":
        return fast.max_pool2d_backward(case.grad, case.x, case.pool, case.stride, **settings)
    return fast.avg_pool2d_backward(case.grad, case.x.shape, case.pool, case.stride, **settings)


def _loop_backward(case, mode, ties="first", write="add", upstream=True, swap_grad=False,
                   divisor=None, window=None, corner=True):
    """A backward pass written as loops over the windows (no padding), with the classic slips
    as switches; the defaults give the right gradient.

    ``write``: ``"add"`` (+=), ``"last"`` (=: the last window to write a cell wins), ``"first"``
    (only the first window's gradient is kept), ``"mask"`` (``dx[window] = mask * g``: each
    window overwrites its whole patch). ``upstream=False``: every window sends 1.
    ``swap_grad``: window (i, j) sends ``grad[j, i]``. ``divisor``: what average pooling divides
    by (F·F). ``window``: the cells a window spans (F). ``corner=False``: a cell's place inside
    its window is taken for its place in the input."""
    x, grad = np.asarray(case.x, float), np.asarray(case.grad, float)
    pool, S = case.pool, case.S
    span = pool if window is None else window
    oh, ow = grad.shape[-2:]
    if span < 1 or (swap_grad and oh != ow):
        _skip()
    gi = np.zeros(x.shape)
    for p in np.ndindex(x.shape[:-2]):
        plane, target, written = x[p], gi[p], np.zeros(x.shape[-2:], bool)
        for i in range(oh):
            for j in range(ow):
                r, c = i * S, j * S
                cells = plane[r:r + span, c:c + span]
                g = grad[p + ((j, i) if swap_grad else (i, j))] if upstream else 1.0
                share, receives = np.zeros(cells.shape), np.zeros(cells.shape, bool)
                if mode == "max":
                    tied = np.argwhere(cells == cells.max())
                    chosen = {"first": tied[:1], "last": tied[-1:]}.get(ties, tied)
                    for a, b in chosen:
                        share[a, b] = g / len(tied) if ties == "split" else g
                        receives[a, b] = True
                else:
                    share[...] = g / (pool * pool if divisor is None else divisor)
                    receives[...] = True
                r0, c0 = (r, c) if corner else (0, 0)
                patch = target[r0:r0 + cells.shape[0], c0:c0 + cells.shape[1]]
                seen = written[r0:r0 + cells.shape[0], c0:c0 + cells.shape[1]]
                if write == "add":
                    patch += share
                elif write == "mask":
                    patch[...] = share
                elif write == "last":
                    patch[receives] = share[receives]
                else:  # "first"
                    keep = receives & ~seen
                    patch[keep] = share[keep]
                seen |= receives
    return gi


def _backward_mistakes(mode, by_hand=False):
    """(hint, f(case)) for the classic slips of a backward pass in ``mode``; ``by_hand``: in
    words for a gradient worked out on paper."""
    if by_hand:
        overwrite = ("A cell that wins several windows collects the gradient of every one of "
                     "them: they add up (+=). You kept only one." if mode == "max" else
                     "A cell in several windows gets a share from every one of them: the shares "
                     "add up (+=). You kept only one.")
    else:
        overwrite = ("The windows overlap and a cell can win several of them, but each win "
                     "overwrote the one before (= instead of +=): use += so the gradients add up."
                     if mode == "max" else
                     "The windows overlap and a cell gets a share from each of them, but each "
                     "window overwrote the share before (= instead of +=): use += so the shares "
                     "add up.")
    L = _loop_backward
    mistakes = [
        (overwrite, lambda c: L(c, mode, write="last")),
        (overwrite, lambda c: L(c, mode, write="first")),
        ("Each winner got 1: a window passes on its own upstream gradient, grad_output[i, j], "
         "not 1." if mode == "max" else
         "Each cell got 1/(F·F) per window: a window spreads its own upstream gradient, "
         "grad_output[i, j] / (F·F), not 1/(F·F).",
         lambda c: L(c, mode, upstream=False)),
        ("Window (i, j) passed on grad_output[j, i]: its gradient is grad_output[i, j] (rows and "
         "columns swapped).",
         lambda c: L(c, mode, swap_grad=True)),
        ("Your gradient is transposed: its rows and columns are swapped.",
         lambda c: _backward(c, mode).swapaxes(-1, -2) if c.x.shape[-1] == c.x.shape[-2]
         else _skip()),
        (SHORT_WINDOWS,
         lambda c: L(c, mode, window=c.pool - 1)),
        ("Each gradient landed at the winner's place inside its window, (a, b): add the window's "
         "corner to get its place in the input, (i·S + a, j·S + b)." if mode == "max" else
         "Every window's shares landed on the top-left F × F cells: add the window's corner, "
         "(i·S, j·S).",
         lambda c: L(c, mode, corner=False)),
        ("That is the gradient of average pooling, spread over the window; max pooling sends all "
         "of it to the window's winner." if mode == "max" else
         "That is the gradient of max pooling, all to the winner; average pooling spreads it "
         "over every cell of the window.",
         lambda c: _backward(c, OTHER_MODE[mode])),
    ]
    if mode == "max" and not by_hand:
        mistakes.append(
            ("Each window wrote over its whole patch (dx[window] = mask * g), wiping out what the "
             "windows before it had left there: add with += instead.",
             lambda c: L(c, mode, write="mask")))
    if mode == "max":
        mistakes += [
            ("At a tie you gave the gradient to the last tied cell; max pooling gives it to the "
             "first one in reading order (np.argmax does; a loop that compares with >= picks the "
             "last).",
             lambda c: L(c, mode, ties="last")),
            ("At a tie every tied cell got the whole gradient; only the first tied cell in "
             "reading order should get it (giving it to all of them is not a valid gradient).",
             lambda c: L(c, mode, ties="all")),
            ("At a tie you shared the gradient among the tied cells; max pooling gives all of it "
             "to the first tied cell in reading order.",
             lambda c: L(c, mode, ties="split")),
        ]
    else:
        mistakes += [
            ("Divide by the window size: each of the F·F cells of a window gets "
             "grad_output[i, j] / (F·F), not the whole gradient.",
             lambda c: L(c, mode, divisor=1)),
            ("Divide by the number of cells in the window, F·F, not by F.",
             lambda c: L(c, mode, divisor=c.pool)),
        ]
    return mistakes


def assigned_max_backward(grad, x, pool, stride):
    """The classic bug: ``grad_input[winner] = grad`` instead of ``+=`` (overlaps overwrite)."""
    return _loop_backward(Case(np.asarray(x), pool, stride, np.asarray(grad)), "max", write="last")


def check_backward(student, mode="max"):
    """Does the student's backward pass ``f(grad_output, x, pool, stride)`` (or layer class)
    match ``pooling_lib``? The upstream gradients are not all ones, some inputs have tied
    maxima, most windows overlap."""
    if unanswered(student):
        return TODO
    tests = list(backward_cases())
    praise = (f"Your backward pass matches pooling_lib on {len(tests)} inputs: upstream gradients "
              "that are not all ones, " + ("tied maxima, " if mode == "max" else "") +
              "overlapping windows, channels and a batch.")
    return _judge(student, tests, lambda c: _backward(c, mode), _backward_mistakes(mode),
                  "grad_input", praise)


# --- convolution (notebook 01) ------------------------------------------------------------------

def check_feature_value(answer, image, kernel, cell):
    """Is ``answer`` the value of feature-map ``cell`` when ``kernel`` (k, k) slides over
    ``image`` (H, W) at stride 1 without padding: the window at ``cell`` times the kernel, cell by
    cell, added up (cross-correlation, as CNNs compute it)?"""
    if unanswered(answer):
        return TODO
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    k, (i, j) = kernel.shape[0], (int(v) for v in cell)
    value, problem = _as_number(answer)
    if problem:
        return wrong(problem)

    def at(r, c, w=kernel):  # the feature map's value at (r, c), or None outside it
        inside = 0 <= r <= image.shape[0] - k and 0 <= c <= image.shape[1] - k
        return float((image[r:r + k, c:c + k] * w).sum()) if inside else None

    expected, window = at(i, j), image[i:i + k, j:j + k]
    span = f"rows {i} to {i + k - 1} and columns {j} to {j + k - 1}"
    if _agree(value, expected):
        return right(f"{_num(expected)}: the window over {span}, times the kernel cell by cell, "
                     "added up.")
    mistakes = [
        (float(window.sum()), "That adds up the window's cells without the kernel: multiply each "
                              "cell by the kernel's weight in the same place first."),
        (at(i, j, kernel[::-1, ::-1]), "That turns the kernel around (a convolution as in a maths "
                                        "book). CNNs lay the kernel on the window as it is."),
        (at(j, i), f"That is the window at ({j}, {i}): the first number is the row, {i}."),
        (float((window * kernel).mean()), f"That is the mean of the products: add them up, do not "
                                          f"divide by {k * k}."),
        (float((window * kernel).max()), "That is the largest product: add them all up."),
    ] + [(at(i + di, j + dj), f"That is the window at ({i + di}, {j + dj}), one step off: the "
                               f"window for ({i}, {j}) starts at row {i}, column {j}.")
         for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))]
    hints = [hint for v, hint in mistakes if v is not None and _agree(value, v)
             and not _agree(v, expected)]
    if hints:
        return wrong(f"{_num(value)} is not it. {_diagnose(hints)}")
    return wrong(f"{_num(value)} is not it. Lay the kernel on the window over {span}, multiply "
                 "the cells that sit on top of each other and add the products.")


# --- gradients by hand (notebook 05) ---------------------------------------------------------

def _as_pair(item):
    """``item`` as a ``(row, column)`` pair of whole numbers, or None."""
    if isinstance(item, (str, bytes, dict, set)):
        return None
    try:
        values = list(item)
    except Exception:
        return None
    if len(values) != 2:
        return None
    row, column = (_as_whole(v) for v in values)
    return None if row is None or column is None else (row, column)


def _read_cells(answer):
    """(set of ``(row, column)`` pairs, None) from one pair or a list, tuple or set of pairs,
    else (None, why not)."""
    example = "Write a list of (row, column) pairs, like [(0, 1)]"
    if isinstance(answer, (str, bytes)):
        return None, f"That is text. {example}."
    if isinstance(answer, dict):
        return None, f"{example}, not a dict."
    pair = _as_pair(answer)
    if pair is not None:
        return {pair}, None
    try:
        items = list(answer)
    except Exception:
        return None, f"{example}, not {_show(answer)}."
    cells = set()
    for item in items:
        pair = _as_pair(item)
        if pair is None:
            return None, f"{_show(item)} is not a (row, column) pair of whole numbers. {example}."
        cells.add(pair)
    return cells, None


def _and(items):
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _window(case, i, j):
    """The input cells of window (i, j) (no padding), in reading order."""
    H, W = case.x.shape[-2:]
    return [(r, c) for r in range(i * case.S, min(i * case.S + case.pool, H))
            for c in range(j * case.S, min(j * case.S + case.pool, W))]


def _span(case, i, j):
    r, c, F = i * case.S, j * case.S, case.pool
    return f"rows {r} to {r + F - 1} and columns {c} to {c + F - 1}"


def check_gradient_cells(answer, x, pool_size, stride, cell):
    """Is ``answer`` the set of input cells ``(h, w)`` that output ``cell`` of max pooling over
    ``x`` (H, W) sends its gradient to?"""
    if unanswered(answer):
        return TODO
    case = Case(np.asarray(x), pool_size, stride)
    H, W = case.x.shape[-2:]
    cell = tuple(int(v) for v in cell)
    _, indices = fast.max_pool2d(case.x, pool_size, case.S, return_indices=True)
    flat = int(indices[cell])
    winner = divmod(flat, W)
    window = _window(case, *cell)
    top = case.x[winner]
    tied = [c for c in window if case.x[c] == top]
    span = _span(case, *cell)
    number = _as_whole(answer)
    if number is not None:
        if number == flat:
            return wrong(f"{flat} is the winner's flat index h·W + w. Write it as a (row, column) "
                         "pair, like [(0, 1)].")
        return wrong("Write a list of (row, column) pairs, like [(0, 1)], not one number.")
    given, problem = _read_cells(answer)
    if problem:
        return wrong(problem)
    if given == {winner}:
        return right(f"Only the winner {winner} gets output {cell}'s gradient; every other cell "
                     "of the window gets 0.")
    if not given:
        return wrong(f"An empty list: output {cell}'s gradient does not vanish, it goes to one "
                     f"cell of its window ({span}). Which one?")
    outside = sorted(c for c in given if not (0 <= c[0] < H and 0 <= c[1] < W))
    if outside:
        return wrong(f"{outside[0]} is outside the {H}×{W} input: rows go from 0 to {H - 1}, "
                     f"columns from 0 to {W - 1}.")
    if len(given) > 1:
        if given == set(window):
            return wrong("That is the whole window. Average pooling would send a share to each "
                         "cell; max pooling sends everything to one cell, the largest value.")
        if given == set(tied):
            return wrong("Those cells tie for the largest value, but max pooling gives the "
                         "gradient to one of them only: the first in reading order.")
        return wrong("Max pooling sends the gradient to one cell only: the window's winner.")
    (guess,) = given
    hints = []
    if guess == (winner[1], winner[0]):
        hints.append("That is the winner with its row and column swapped: write (row, column).")
    corner = (cell[0] * case.S, cell[1] * case.S)
    if guess == (winner[0] - corner[0], winner[1] - corner[1]):
        hints.append("That is the winner's place inside the window; add the window's corner "
                     f"{corner} to get its place in the input.")
    if guess == cell and guess not in window:
        hints.append(f"{cell} is the output cell itself; its window covers {span} of the input.")
    if guess in tied:
        hints.append(f"x{list(guess)} ties for the largest value of window {cell}, but at a tie "
                     "the first tied cell in reading order takes the gradient.")
    if hints:
        return wrong(f"{guess} is not it. {_diagnose(hints)}")
    if guess not in window:
        return wrong(f"{guess} is not in window {cell}, which covers {span}.")
    return wrong(f"{guess} is not the largest value of window {cell}: x{list(guess)} = "
                 f"{_num(case.x[guess])}.")


def _windows_of(case, cell):
    """The windows (i, j) that contain input ``cell``, and those it wins (max pooling)."""
    grad = np.asarray(case.grad)
    oh, ow = grad.shape[-2:]
    inside = [(i, j) for i in range(oh) for j in range(ow) if cell in _window(case, i, j)]
    _, indices = fast.max_pool2d(case.x, case.pool, case.S, return_indices=True)
    won = [w for w in inside if int(indices[w]) == cell[0] * case.x.shape[-1] + cell[1]]
    return inside, won


def _collects(case, mode, cell):
    """What input ``cell`` receives, in words: "wins windows (0, 0) and (0, 1), so it collects
    1 + 2 = 3"."""
    inside, won = _windows_of(case, cell)
    g = [case.grad[w] for w in (won if mode == "max" else inside)]
    terms = " + ".join(_num(v) for v in g)
    if mode == "max":
        if not won:
            tie = any(case.x[cell] == max(case.x[c] for c in _window(case, *w)) for w in inside)
            return "wins no window" + (" (at a tie the first tied cell in reading order takes "
                                       "the gradient)" if tie else "") + ", so it gets 0"
        if len(won) == 1:
            return f"wins window {won[0]} only, so it gets {terms}"
        return f"wins windows {_and(won)}, so it collects {terms} = {_num(sum(g))}"
    k = case.pool ** 2
    if not inside:
        return "is in no window, so it gets 0"
    if len(inside) == 1:
        return f"is in window {inside[0]} only, so it gets {terms} / {k} = {_num(sum(g) / k)}"
    return f"is in windows {_and(inside)}, so it gets ({terms}) / {k} = {_num(sum(g) / k)}"


def check_input_gradient(answer, x, grad_output, pool_size, stride=None, mode="max"):
    """Is ``answer`` (a list of rows) the gradient that reaches each cell of the input ``x``
    (H, W) through max pooling, or average pooling with ``mode="avg"`` (then ``x`` may be just
    the input's shape), when the output cells send back ``grad_output``? Worked out by hand."""
    if unanswered(answer):
        return TODO
    values_known = not (mode == "avg" and isinstance(x, tuple))
    x = np.asarray(x, float) if values_known else np.zeros(x)
    case = Case(x, pool_size, stride, np.asarray(grad_output, float))
    expected = _backward(case, mode)
    given, problem = _as_numbers(answer)
    if problem:
        return wrong(f"{problem} Write the gradient as a list of rows, one number per input cell.")
    if given.shape != x.shape:
        if given.shape == case.grad.shape:
            return wrong(f"That has the shape of grad_output, {case.grad.shape}. The gradient for "
                         f"the input has one number per input cell: shape {x.shape}.")
        return wrong(f"Your answer has shape {given.shape}; the input has shape {x.shape}: one "
                     "number per input cell.")
    cells = [tuple(int(v) for v in c) for c in np.ndindex(x.shape)]
    if _agree(given, expected, rounded=True):
        if mode == "max":
            busy = [c for c in cells if _windows_of(case, c)[1]]
            said = "; ".join(f"cell {c} {_collects(case, mode, c)}" for c in busy[:3])
            return right(f"{said[0].upper()}{said[1:]}; every other cell gets 0.")
        most = max(cells, key=lambda c: len(_windows_of(case, c)[0]))
        return right(f"Every window gives each of its cells grad / {case.pool ** 2}, and the "
                     f"shares add up: cell {most} {_collects(case, mode, most)}.")
    mistakes = _backward_mistakes(mode, by_hand=True)
    if not values_known:
        mistakes = [m for m in mistakes if "max pooling, all to the winner" not in m[0]]
    hints = [hint for hint, mistake in mistakes
             if _explained(mistake, [(case, expected, given)], rounded=True)]
    off = [c for c in cells if not _agree_cells(given[c], expected[c], rounded=True)]
    misplaced = [c for c in off if expected[c] == 0]
    c = (misplaced or off)[0]
    detail = f"cell {c} {_collects(case, mode, c)}; you have {_num(given[c])}"
    if hints:
        return wrong(f"{_diagnose(hints)} ({detail}.)")
    if misplaced and mode == "max" and np.isclose(given.sum(), case.grad.sum()):
        return wrong(f"The total is right, but some gradient went to the wrong cell: {detail}.")
    return wrong(f"Not yet: {detail}.")


# --- padding (notebook 07) ---------------------------------------------------------------------

def check_padded_average(answer, x, pool_size, stride=None, padding=0, count_include_pad=True,
                         cell=(0, 0)):
    """Is ``answer`` what window ``cell`` of average pooling over ``x`` (H, W) outputs, with
    ``padding`` and ``count_include_pad``?"""
    if unanswered(answer):
        return TODO
    x = np.asarray(x)
    H, W = x.shape[-2:]
    F, S = pool_size, pool_size if stride is None else stride
    cell = tuple(int(v) for v in cell)
    both = {flag: float(fast.avg_pool2d(x, F, S, padding, count_include_pad=flag)[cell])
            for flag in (True, False)}
    expected = both[bool(count_include_pad)]
    value, problem = _as_number(answer)
    if problem:
        return wrong(problem)
    r0, c0 = cell[0] * S - padding, cell[1] * S - padding
    real = [(r, c) for r in range(r0, r0 + F) for c in range(c0, c0 + F)
            if 0 <= r < H and 0 <= c < W]
    total = float(sum(x[c] for c in real))
    n_all, n_real = F * F, len(real)
    span = f"rows {_signed(r0)} to {r0 + F - 1} and columns {_signed(c0)} to {c0 + F - 1}"
    divisor = n_all if count_include_pad else n_real
    how = (f"all {n_all} cells of the window, the {n_all - n_real} padding cells included"
           if count_include_pad else f"its {n_real} real cells only")
    if _agree(value, expected, rounded=True):
        return right(f"{_num(total)} / {divisor} = {expected:.4g}: the window covers {span}; its "
                     f"{n_real} real cells add up to {_num(total)}, divided by {how}.")
    unpadded = x[cell[0] * S:cell[0] * S + F, cell[1] * S:cell[1] * S + F]
    mistakes = [
        (both[not count_include_pad],
         f"That divides by the {n_real} real cells only: that is count_include_pad=False. With "
         f"True the padding cells count too: divide by all {n_all} cells of the window."
         if count_include_pad else
         f"That divides by all {n_all} cells, padding included: that is count_include_pad=True. "
         f"With False only the {n_real} real cells count."),
        (total, f"That is the sum of the window's real cells; divide it by {divisor}."),
        (total / (n_all - n_real) if n_all > n_real else None,
         f"You divided by the {n_all - n_real} padding cells; divide by "
         f"{'all the cells of the window' if count_include_pad else 'the real cells'}, {divisor}."),
        (float(max(x[c] for c in real)) if real else None,
         "That is the largest value: average pooling gives sum / count."),
        (float(unpadded.mean()) if unpadded.size else None,
         f"That window starts at row {cell[0] * S}, column {cell[1] * S}, as if there were no "
         f"padding. With padding {padding} it starts at row {_signed(r0)}, column {_signed(c0)}."),
        (total / F, f"Divide by a number of cells, {divisor}, not by the window's side, {F}."),
    ]
    hints = [hint for v, hint in mistakes
             if v is not None and _agree(value, v, rounded=True) and not _agree(v, expected)]
    if hints:
        return wrong(f"{_num(value)} is not it. {_diagnose(hints)}")
    by = "all the cells of the window" if count_include_pad else "the number of real cells"
    return wrong(f"{_num(value)} is not it. The window covers {span}: add its real cells, then "
                 f"divide by {by}.")


# --- adaptive pooling (notebook 08) -------------------------------------------------------------

def _read_bins(answer, count):
    """(list of ``(first, last)`` pairs, None) from a list or tuple of pairs, else (None, why not)."""
    example = "Write a list of (first, last) pairs, one per bin and in order, like [(0, 1), (1, 2)]"
    if isinstance(answer, (str, bytes)):
        return None, f"That is text. {example}."
    if isinstance(answer, (dict, set)):
        return None, f"{example}: the bins have an order, so not {_kind(answer)}."
    if _as_pair(answer) is not None and count != 1:
        return None, f"That is one pair, but there are {count} bins. {example}."
    try:
        items = list(answer)
    except Exception:
        return None, f"{example}, not {_show(answer)}."
    pairs = [_as_pair(item) for item in items]
    for item, pair in zip(items, pairs):
        if pair is None:
            return None, f"{_show(item)} is not a (first, last) pair of whole numbers. {example}."
    return pairs, None


def check_adaptive_bins(answer, size, output_size):
    """Is ``answer`` the bins of adaptive pooling from ``size`` cells to ``output_size``: the
    first and the last cell of each bin, ``[(first, last), ...]`` in order?"""
    if unanswered(answer):
        return TODO
    pairs, problem = _read_bins(answer, output_size)
    if problem:
        return wrong(problem)
    L, out = size, output_size
    expected = [(start, stop - 1) for start, stop in bins(L, out)]
    if pairs == expected:
        shared = sorted({c for (_, last), (first, _) in zip(expected, expected[1:])
                         for c in range(first, last + 1)})
        return right(f"Right: {_and(expected)}. " + (
            f"Neighbouring bins share cell{'s' if len(shared) > 1 else ''} {_and(shared)}."
            if shared else "Here no cell is shared: the bins tile the row."))
    if len(pairs) != out:
        return wrong(f"There are {out} bins, one per output cell; you gave {len(pairs)}.")
    mistakes = [
        ([(start, stop) for start, stop in bins(L, out)],
         "The formula's end is excluded: a bin's last cell is one less than ceil((i + 1)·L / out)."),
        ([(i * L // out, (i + 1) * L // out - 1) for i in range(out)],
         "The end rounds up, ceil((i + 1)·L / out), not down: that is what lets bins overlap."),
        ([(i * (L // out), (i + 1) * (L // out) - 1) for i in range(out)],
         f"Bins are not all L // out = {L // out} cells long: each starts at floor(i·L / out) and "
         "ends before ceil((i + 1)·L / out)."),
    ]
    hints = [hint for candidate, hint in mistakes if pairs == candidate and candidate != expected]
    if hints:
        return wrong(f"Not yet. {_diagnose(hints)}")
    i = next(i for i, (a, b) in enumerate(zip(pairs, expected)) if a != b)
    start, stop = bins(L, out)[i]
    return wrong(f"Bin {i} is not {pairs[i]}: it starts at floor({i}·{L} / {out}) = {start} and "
                 f"ends before ceil({i + 1}·{L} / {out}) = {stop}.")


# --- from average to max (notebook 12) ----------------------------------------------------------

def check_power_mean(answer, window, p):
    """Is ``answer`` the power mean of the numbers in ``window`` at ``p``: the mean of their
    p-th powers, then the p-th root? (A number worked out by hand may be rounded to 2 decimals.)"""
    if unanswered(answer):
        return TODO
    value, problem = _as_number(answer)
    if problem:
        return wrong(problem)
    w = np.asarray(window, dtype=float).ravel()
    n, powers = w.size, w ** p
    expected = powers.mean() ** (1 / p)
    cells = " + ".join(f"{_num(v)}^{_num(p)}" for v in w)
    if _agree(value, expected, rounded=True):
        nearer = "max" if w.max() - expected < expected - w.mean() else "average"
        return right(f"({cells}) / {n} = {_num(powers.mean())}, and its root: {expected:.4g}. Between "
                     f"the average {_num(w.mean())} and the max {_num(w.max())}, nearer the {nearer}.")
    mistakes = [
        (powers.sum() ** (1 / p), f"That is the root of the sum, the Lp norm that lp_pool2d gives: "
                                  f"divide the sum of powers by the {n} cells before the root."),
        (powers.mean(), "That is the mean of the powers: take its p-th root as well."),
        (powers.sum(), f"That is the sum of the powers: divide by {n}, then take the p-th root."),
        (w.mean(), "That is the plain average, the power mean at p = 1: raise each number to the "
                   f"power {_num(p)} first."),
        (w.max(), "That is the max, where the power mean heads as p grows; at this p it is not there yet."),
        (powers.sum() ** (1 / p) / n, "That divides after the root: divide the sum of powers by "
                                      f"{n} first, then take the root."),
    ]
    hints = [hint for v, hint in mistakes if _agree(value, v, rounded=True) and not _agree(v, expected)]
    if hints:
        return wrong(f"{_num(value)} is not it. {_diagnose(hints)}")
    return wrong(f"{_num(value)} is not it. Raise each number to the power {_num(p)}, take the mean "
                 f"of those {n} powers, then its root of order {_num(p)}.")


# --- invariance and aliasing (notebook 13) ------------------------------------------------------

def blur_pool_steps(signal):
    """The three steps of 1-D max-blur pooling (Zhang, 2019) of ``signal`` (L,), as notebook 13
    builds them from pooling functions: ``(maxima, blurred, pooled)``: the max of every pair of
    neighbours (stride 1), those blurred by [1, 2, 1] / 4 with one 0 of padding at each end, and
    every other blurred value, from the first."""
    from ..pool1d import avg_pool1d, max_pool1d
    maxima = max_pool1d(np.asarray(signal, dtype=float), 2, 1)
    blurred = avg_pool1d(avg_pool1d(maxima, 2, 1, padding=1), 2, 1)
    return maxima, blurred, blurred[::2]


def _blurred(values, weights=(1, 2, 1), divisor=4, padding=1):
    """``values`` (L,) blurred by the symmetric ``weights`` / ``divisor``, ``padding`` zeros at
    each end, only where the weights fit."""
    padded = np.pad(np.asarray(values, dtype=float), padding)
    return np.convolve(padded, np.asarray(weights, dtype=float), "valid") / divisor


def _blur_pool_mistakes(x):
    """(value, hint) for the classic slips of max-blur pooling the signal ``x`` (L,) by hand."""
    from ..pool1d import avg_pool1d, max_pool1d
    maxima, blurred, _ = blur_pool_steps(x)
    return [
        (maxima[::2], "No blur: every other maximum is plain max pooling at stride 2, the one that "
                      "aliases. Blur the maxima with [1, 2, 1] / 4 first, then keep every other."),
        (avg_pool1d(x, 2), "That is average pooling at stride 2: take the max of each pair of "
                           "neighbours first, at every place (stride 1)."),
        (_blurred(x)[::2], "That blurs the signal itself, with no max: take the max of every pair "
                           "of neighbours first (stride 1), then blur those maxima."),
        (blurred, "That is every blurred value: keep only every other one, from the first "
                  "(places 0, 2, 4, ...)."),
        (blurred[1::2], "Those are the blurred values at the odd places 1, 3, ...: keep places "
                        "0, 2, 4, ..., where the windows of max pooling at stride 2 start."),
        (_blurred(maxima, padding=0)[::2], "The blur needs one 0 of padding at each end of the "
                                           "maxima: without it the first blurred value is centred "
                                           "on maximum 1, not on maximum 0."),
        (_blurred(maxima, divisor=3)[::2], "Divide by 4, the sum of the weights 1 + 2 + 1, not by "
                                           "3 (the number of values)."),
        (_blurred(maxima, divisor=1)[::2], "Divide each weighted sum by 4, the sum of the weights "
                                           "1 + 2 + 1."),
        (_blurred(maxima, (1, 1, 1), 3)[::2], "The middle value counts twice: the weights are "
                                              "1, 2, 1, divided by 4."),
        (_blurred(max_pool1d(x, 2)), "That blurs after keeping every other maximum: by then the "
                                     "aliasing has happened. Blur the maxima at every place, then "
                                     "keep every other value."),
    ]


def check_blur_pool(answer, signal):
    """Is ``answer`` the max-blur pooling of the 1-D ``signal``: the max of every pair of
    neighbours (stride 1), a [1, 2, 1] / 4 blur with one 0 of padding at each end, then every
    other value from the first? (Values worked out by hand may be rounded to 2 decimals.)"""
    if unanswered(answer):
        return TODO
    x = np.asarray(signal, dtype=float)
    maxima, _, expected = blur_pool_steps(x)
    given, problem = _as_numbers(answer)
    if problem:
        return wrong(f"{problem} Write your answer as a list of numbers, like [1, 2, 3].")
    shown = ", ".join(map(_num, maxima))
    if _agree(given, expected, rounded=True):
        return right(f"The maxima of neighbouring pairs are [{shown}]; blurred at places 0, 2, 4, "
                     f"...: [{', '.join(map(_num, expected))}]. Every maximum counts, with its "
                     "neighbours, before half of the places are dropped.")
    hints = [hint for value, hint in _blur_pool_mistakes(x)
             if _agree(given, value, rounded=True) and not _agree(value, expected)]
    if hints:
        return wrong(_diagnose(hints))
    n = len(expected)
    if given.shape != expected.shape:
        if given.size == n and _agree(given.ravel(), expected, rounded=True):
            return wrong(f"The right numbers, but your answer has shape {given.shape}: write them "
                         f"as one flat list of {n}.")
        yours = "one number" if given.ndim == 0 else f"an answer of shape {given.shape}"
        return wrong(f"There is one value per window of max pooling at stride 2: {n} for a signal "
                     f"of {len(x)}, as a list; you gave {yours}.")
    j = int(np.argwhere(~_agree_cells(given, expected, True))[0][0])
    left, middle, right_ = (maxima[k] if 0 <= k < len(maxima) else 0.0
                            for k in (2 * j - 1, 2 * j, 2 * j + 1))
    return wrong(f"Value {j} should be ({_num(left)} + 2·{_num(middle)} + {_num(right_)}) / 4 = "
                 f"{_num(expected[j])}, you have {_num(given[j])}: the maxima of neighbouring "
                 f"pairs are [{shown}], and value {j} blurs the one at place {2 * j} with its two "
                 "neighbours (0 beyond the ends).")


# --- receptive fields (notebook 14) ------------------------------------------------------------

def _field(steps):
    from ..receptive_field import field_sizes
    return field_sizes(steps)[-1].size if steps else 1


def _field_mistakes(steps):
    """(wrong answer, what it tells) for the classic slips with the receptive-field recurrence."""
    from ..receptive_field import field_sizes
    kernels = [s.kernel for s in steps]
    jumps_after = [f.jump for f in field_sizes(steps)[1:]]
    pools = [s for s in steps if "pool" in s.name]
    convs = [s for s in steps if "pool" not in s.name]
    last, first = steps[-1], steps[0]
    mistakes = [
        (sum(kernels), "That adds up the kernel sizes. A layer widens the field by k − 1 cells, "
                       "not k, and after a stride by (k − 1)·jump: start from 1 and add those."),
        (1 + sum((s.kernel - 1) * s.dilation for s in steps),
         "That adds k − 1 for every layer but leaves out the jump: after a stride, neighbouring "
         "cells of a layer are several input cells apart, so each later layer adds (k − 1)·jump."),
        (math.prod(kernels), "Multiplying the kernel sizes makes the field grow far too fast: "
                             "layers add to it, 1 + (k − 1)·jump for each."),
        (_field(steps[:-1]), f"That is the field one layer before the end: the last layer "
                             f"({last.name}) widens it too."),
        (_field(steps[1:]), f"That leaves out the first layer ({first.name}): it widens the "
                            "field too, by k − 1 cells."),
        (1 + sum((s.kernel - 1) * s.dilation * j for s, j in zip(steps, jumps_after)),
         "That multiplies each layer's k − 1 by the jump after its own stride. A layer adds "
         "(k − 1) times the jump of its input: its own stride only counts for the layers after it."),
        (_field(steps) - 1, "Off by one: the field starts at 1 cell, the output cell's own "
                            "position, before any layer adds to it."),
    ]
    if pools and convs:
        mistakes += [
            (_field(pools), "That counts only the pooling: the convolutions widen the field too."),
            (_field(convs), "That leaves out the pooling. It widens the field a little itself, "
                            "and above all its stride multiplies the jump of every later layer."),
        ]
    return mistakes


def check_receptive_field_size(answer, steps):
    """Is ``answer`` the width, in input cells, of the receptive field of one output cell of the
    stack ``steps`` (``pooling_lib.receptive_field`` steps), far from the edges?"""
    from ..receptive_field import field_working
    if unanswered(answer):
        return TODO
    value, problem = _count(answer, "cells")
    if value is None:
        return wrong(problem)
    expected = _field(steps)
    if value == expected:
        return right(f"{expected} cells: {field_working(steps)}. Each layer adds (k − 1)·jump, and "
                     "every stride multiplies the jump of the layers after it.")
    hints = [hint for v, hint in _field_mistakes(steps) if v == value and v != expected]
    if hints:
        return wrong(f"{value} is not it. {_diagnose(hints)}")
    return wrong(f"{value} is not it. Go layer by layer from 1 cell: each layer adds (k − 1)·jump "
                 "cells (the jump of its input), then multiplies the jump by its stride.")


# --- what replaces pooling (notebook 15) ---------------------------------------------------------

def average_kernel(channels, pool_size):
    """The weights (C, C, k, k) of a convolution that is k x k average pooling at stride k:
    1/k² on each map's own channel, 0 across channels."""
    w = np.zeros((channels, channels, pool_size, pool_size))
    w[np.arange(channels), np.arange(channels)] = 1 / pool_size ** 2
    return w


def check_average_kernel(answer, channels, pool_size):
    """Is ``answer`` the weight array (C, C, k, k) of a ``Conv2D(C, C, k, stride=k)`` (no bias)
    that computes k x k average pooling?"""
    if unanswered(answer):
        return TODO
    given, problem = _as_numbers(answer)
    if problem:
        return wrong(f"{problem} Build the weights as an array, e.g. starting from np.zeros(...).")
    C, k = channels, pool_size
    expected = average_kernel(C, k)
    if _agree(given, expected, rounded=True):
        return right(f"Each output map weighs the {k * k} cells of a window of its own channel by "
                     f"1/{k * k} and takes nothing from the others: at stride {k} this convolution "
                     "is average pooling, with weights that never learn.")
    shape = f"({C}, {C}, {k}, {k})"
    if given.shape in ((k, k), (C, k, k)):
        return wrong(f"A Conv2D from {C} maps to {C} maps has one {k} × {k} kernel per pair "
                     f"(output map, input channel): its weight has shape {shape}, yours {given.shape}.")
    if given.shape != expected.shape:
        return wrong(f"The weight of Conv2D({C}, {C}, {k}) has shape {shape}: (output maps, input "
                     f"channels, {k}, {k}); yours has shape {given.shape}.")
    diagonal = np.zeros_like(expected)
    diagonal[np.arange(C), np.arange(C)] = 1
    mistakes = [
        (diagonal, f"With weights of 1 the convolution adds the {k * k} cells up: divide by {k * k}."),
        (diagonal / k, f"A {k} × {k} window holds {k * k} cells, not {k}: each weight is 1/{k * k}."),
        (np.full_like(expected, 1 / k ** 2),
         f"Then every output map adds the averages of all {C} channels together. Map c should "
         "see only channel c: zeros wherever the output map and the input channel differ."),
        (np.full_like(expected, 1 / (C * k ** 2)),
         f"That averages over the {C} channels as well, mixing them: pooling keeps each channel "
         "to itself, so zeros wherever the output map and the input channel differ."),
    ]
    hints = [hint for candidate, hint in mistakes if _agree(given, candidate, rounded=True)]
    if hints:
        return wrong(_diagnose(hints))
    where = tuple(int(i) for i in np.argwhere(~_agree_cells(given, expected, True))[0])
    o, c = where[:2]
    rule = (f"1/{k * k}, since output map {o} averages its own channel" if o == c
            else f"0, since output map {o} must not see channel {c}")
    return wrong(f"weight{list(where)} is {_num(given[where])}; it should be {rule}.")


# --- fast pooling (notebook 09) ----------------------------------------------------------------

def check_im2col_size(answer, shape, pool_size, stride=None):
    """Is ``answer`` the number of values in im2col's column matrix for an input of ``shape``
    (..., H, W), without padding? (K cells per window × L windows per plane × the planes.)"""
    if unanswered(answer):
        return TODO
    value, problem = _count(answer, "values")
    if value is None:
        return wrong(problem)
    rows, cols = plan(tuple(shape[-2:]), pool_size, stride)
    planes, size = math.prod(shape[:-2]), math.prod(shape)
    K, L = rows.pool * cols.pool, rows.out * cols.out
    expected = planes * K * L
    if value == expected:
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
    hints = [hint for v, hint in mistakes if v == value]
    if hints:
        return wrong(f"{value:,} is not it. {_diagnose(hints)}")
    return wrong(f"{value:,} is not it. Multiply K (cells per window) by L (windows per plane) "
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
    if not callable(student):
        return wrong("Pass your function itself: its name, without brackets, not "
                     f"{_show(student)}.")
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
        if result is Ellipsis:
            return TODO
        if result is None:
            return _returned_none(student)
        result, problem = _as_numbers(result)
        if problem:
            return wrong(f"{where} your code returned something other than an array of numbers. "
                         f"{problem}")
        expected = pool(x, k, k)
        if _agree(result, expected):
            continue
        for value, hint in _reshape_mistakes(x, k, reduce):
            if _agree(result, value):
                return wrong(f"{where}: {hint}")
        if _agree(result, other(x, k, k)):
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


# --- the CNN (notebook 10) ---------------------------------------------------------------------

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


def _times(sizes):
    return " × ".join(f"{s:,}" for s in sizes)


def check_dense_parameters(answer, network, input_shape=(1, 8, 8)):
    """Is ``answer`` the number of parameters (weights and biases) of the ``Dense`` layer of
    ``network`` (an ``nn.Sequential``) for images of ``input_shape`` (C, H, W)?"""
    from ..layers import AvgPool, MaxPool
    from ..cnn.nn import Dense, Flatten, count_parameters
    if unanswered(answer):
        return TODO
    value, problem = _count(answer, "parameters")
    if value is None:
        return wrong(problem)
    shapes = _layer_shapes(network, 1, input_shape)
    k = next(k for k, (layer, _, _) in enumerate(shapes) if isinstance(layer, Dense))
    n_in, n_out = shapes[k][0].shape
    maps = shapes[k - 1][1][1:] if k and isinstance(shapes[k - 1][0], Flatten) else (n_in,)
    inputs = f"{n_in:,} inputs" + (f" ({_times(maps)})" if len(maps) > 1 else "")
    expected = n_in * n_out + n_out
    if value == expected:
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
    hints = [hint for v, hint in mistakes if v == value and hint]
    if hints:
        return wrong(f"{value:,} is not it. {_diagnose(hints)}")
    return wrong(f"{value:,} is not it. A dense layer has inputs × outputs weights and one bias "
                 "per output. How many numbers reach it? Flatten gives it every value of every "
                 "map: C × H × W.")


def _layer_index(network, layer):
    """``layer`` as an index into ``network.layers``: an int, or a class name such as "MaxPool"."""
    names = [type(item).__name__ for item in network.layers]
    if isinstance(layer, str) and layer in names:
        return names.index(layer)
    index = _as_whole(layer)
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    raise ValueError(f"layer must be an index below {len(names)} or one of {names}, got {layer!r}")


def _read_shape(answer):
    """(tuple of whole numbers, None) from a tuple, list or 1-D array of sizes, else
    (None, why not)."""
    example = "Give the shape as a tuple of sizes, like (2, 3, 4, 5)"
    if isinstance(answer, (str, bytes)):
        return None, f"That is text. {example}."
    if isinstance(answer, (set, frozenset, dict)):
        return None, f"{example}: a tuple keeps the axes in order, {_kind(answer)} does not."
    try:
        items = list(answer)
    except Exception:
        return None, f"{example}, not {_show(answer)}."
    sizes = []
    for item in items:
        size = _as_whole(item)
        if size is None:
            return None, f"{_show(item)} is not a size: sizes are whole numbers. {example}."
        sizes.append(size)
    return tuple(sizes), None


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
    count = _as_whole(answer)
    if count is not None:
        more = (" That is how many numbers come out; give their shape." if count ==
                math.prod(expected) else "")
        return wrong(f"Give the shape as a tuple of sizes, like (2, 3, 4, 5).{more}")
    answer, problem = _read_shape(answer)
    if problem:
        return wrong(problem)
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
    hints = [hint for value, hint in mistakes if answer == tuple(value)]
    if hints:
        return wrong(f"{answer} is not it. {_diagnose(hints)}")
    if len(answer) == len(expected) and answer[1:] == expected[1:]:
        return wrong(f"{answer} is not it. The first axis counts the images in the batch: {batch}.")
    return wrong(f"{answer} is not it. {name} gets {given}: what does it do to each axis?")
