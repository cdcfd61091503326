"""The machinery behind ``pooling_lib.fast``: index tables, their caches, and the tricks that
only save time.

``fast`` says what is computed (taps as strided slices, two 1-D maximum searches, gradients
routed back tap by tap, window sums); this module makes it quick. Nothing here changes a
result: every trick carries a one-line comment saying what it saves and why the result is the
same. Private: the names here may change at any time.

- taps of one axis as ready-made slices (:func:`axis_taps`), cached per axis;
- the start of the running maximum and of the window sums, the running argmax on small
  integers (:func:`mark_winners`) and the NaN rule (:func:`nan_winners`);
- which taps write a cell first when gradients go back (:func:`scatter_taps`);
- tiny inputs: every window gathered at once from a cached index table (:func:`gather_max`,
  :func:`gather_mean`, :func:`gather_mean_backward`);
- gradients scattered by flat cell index (:func:`scatter_by_cell`);
- planes processed in cache-sized chunks (:func:`chunks`), large inputs on a few threads
  (:func:`each_chunk`).

Shapes: planes are ``(P, H, W)``; one axis is pooled at a time, ``axis`` 1 (rows) or 2
(columns) of planes ``(P, A, B)``.
"""
import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from ._cache import cached
from .geometry import lowest, planes, result_dtype

CHUNK_BYTES = 1 << 20  # planes are processed in chunks of about this many input bytes (L2)
SMALL = 4096  # inputs of at most this many cells gather their windows in one go ...
SMALL_MAX = 16384  # ... for max pooling, up to this many (measured: 1.7x quicker at 16 x 28 x 28)
GATHERED = 8 * SMALL  # ... if all their windows hold at most this many cells together


# --- taps of one axis ------------------------------------------------------------------------

WIDE = 64  # axes with more taps than this make their taps on the fly instead of keeping them


def axis_taps(ax, axis):
    """Taps of one axis as ``(k, output index, input index)`` over planes (P, A, B), where
    ``axis`` (1 or 2) is the pooled axis; taps that never fall inside the input are left out.
    A tuple, or for axes of more than :data:`WIDE` taps an iterator (kept tables would grow
    with the pool)."""
    if len(ax.taps()) > WIDE:
        return make_taps(ax, axis)
    return kept_taps(ax, axis)


def make_taps(ax, axis):
    """The taps of :func:`axis_taps`, one at a time."""
    pad = (slice(None),) * axis
    return ((k, pad + (o,), pad + (i,)) for k, (o, i) in
            ((k, ax.input_slice(k)) for k in ax.taps()) if o.stop > o.start)


@cached(4 << 20)  # cached: building the slices costs more than pooling a small input
def kept_taps(ax, axis):
    """The taps of :func:`axis_taps` as a tuple."""
    return tuple(make_taps(ax, axis))


def peek(steps, n):
    """The first ``n`` taps of :func:`axis_taps` (fewer if there are not so many) and an
    iterator over the rest."""
    steps = iter(steps)
    first = [step for _, step in zip(range(n), steps)]
    return first, steps


def covers_all(step, ax, axis):
    """Does this ``(k, output index, input index)`` tap of :func:`axis_taps` reach every window?"""
    return step[1][axis] == slice(0, ax.out)


def shortened(shape, axis, length):
    """``shape`` with axis ``axis`` of ``length``."""
    return shape[:axis] + (length,) + shape[axis + 1:]


def tap_dtype(pool):
    """The dtype of tap numbers ``0 .. pool - 1``."""
    # one byte per window up to 256 taps (two, then four beyond): the winner arrays are 8x
    # smaller than int64
    return np.uint8 if pool <= 1 << 8 else np.uint16 if pool <= 1 << 16 else np.uint32 if pool <= 1 << 32 else np.uint64


@cached(4 << 20)  # cached: a few small NumPy calls per axis, asked for on every call
def first_tap(ax, axis):
    """Each window's first tap inside the input, shaped to broadcast along ``axis`` (read-only)."""
    first = ax.first_taps().astype(tap_dtype(ax.pool))
    first.flags.writeable = False
    return first[:, None] if axis == 1 else first


def first_valid_tap(rows, cols):
    """``(oh, ow)`` tap number of each window's first cell inside the input (row-major)."""
    return first_tap(rows, 1).astype(np.intp) * cols.pool + first_tap(cols, 2)


def chunks(planes, size=None):
    """Slices over the first axis of planes (P, A, B), each about ``size`` bytes (default
    :data:`CHUNK_BYTES`)."""
    # the second 1-D pass reads what the first wrote: on a chunk that fits in cache that read
    # comes from cache, not memory (planes are pooled independently: the same result)
    step = max(1, (size or CHUNK_BYTES) // (planes.itemsize * planes.shape[1] * planes.shape[2]))
    return [slice(s, s + step) for s in range(0, len(planes), step)]


THREADS = min(4, os.cpu_count() or 1)  # threads that pool large inputs, chunks shared among them
PARALLEL_BYTES = 4 << 20  # inputs from this size on are split over the threads; smaller: serial
THREAD_CHUNK_BYTES = 4 << 20  # the largest chunk a thread takes at a time
_pools = {}  # {THREADS: its pool}, made on first use, kept for the life of the process
_pool_lock = threading.Lock()


def each_chunk(planes, work):
    """Run ``work(part)`` for every chunk of planes (P, A, B) (:func:`chunks`): on
    :data:`THREADS` threads for inputs of :data:`PARALLEL_BYTES` or more, else one after another."""
    # NumPy lets go of the GIL inside its array loops, so chunks pooled on two threads take about
    # half the time on two cores. Each chunk writes only its own planes of the result, with the
    # same operations in the same order as on one thread: the same bits, in any order of finishing.
    if len(planes) < 2 or not threaded(planes.nbytes):
        for part in chunks(planes):
            work(part)
        return
    # threads take bigger chunks (measured: 2-4 MiB beat 1 MiB by 1.3-1.5x on two threads): fewer
    # hand-overs of the GIL between the many small NumPy calls of a chunk
    size = min(THREAD_CHUNK_BYTES, max(CHUNK_BYTES, planes.nbytes // THREADS))
    for _ in thread_pool().map(work, chunks(planes, size)):  # re-raises any chunk's error
        pass


def separable(planes, first, second):
    """Run a pooling that goes one axis at a time over planes (P, A, B): ``first`` and ``second``
    are ``(run, axis, length)``, ``run(index)`` doing its pass for the cells ``index`` of its
    arrays. Many planes: both passes chunk by chunk (:func:`each_chunk`; the second reads what
    the first wrote while it is in cache). A few large planes: each pass split across the axis it
    does not pool (``axis``, of ``length``), on the threads."""
    if len(planes) >= 2 * THREADS or not threaded(planes.nbytes):
        each_chunk(planes, lambda part: [run((part,)) for run, _, _ in (first, second)])
        return
    for run, axis, length in (first, second):  # each line (or column) on its own: same bits
        step = -(-length // THREADS)
        parts = [(slice(None),) * axis + (slice(start, start + step),) for start in range(0, length, step)]
        for _ in thread_pool().map(run, parts):
            pass


def threaded(nbytes):
    """Is an array of ``nbytes`` big enough to be pooled on several threads?"""
    return THREADS > 1 and nbytes >= PARALLEL_BYTES


def thread_pool():
    """The engine's own pool of :data:`THREADS` threads."""
    with _pool_lock:
        if THREADS not in _pools:
            _pools[THREADS] = ThreadPoolExecutor(THREADS, thread_name_prefix="pooling_lib")
        return _pools[THREADS]


# --- the running maximum of fast.search_1d ----------------------------------------------------

def search_start(x, ax, axis):
    """Running maximum and winning taps before the first tap of ``fast.search_1d``, and the
    taps still to visit. x: (P, A, B) -> out, arg with ``axis`` of ``ax.out``, steps."""
    shape = shortened(x.shape, axis, ax.out)
    (first,), steps = peek(axis_taps(ax, axis), 1)
    if first[0] == 0 and covers_all(first, ax, axis):
        # tap 0 lies inside every window: start from a copy of it (one pass, no comparison)
        return x[first[2]].copy(), np.zeros(shape, tap_dtype(ax.pool)), steps
    # padding: start below every value, with each window's first real tap as its winner
    out, arg = np.full(shape, lowest(x.dtype), x.dtype), np.empty(shape, tap_dtype(ax.pool))
    arg[...] = first_tap(ax, axis)
    return out, arg, itertools.chain([first], steps)


def mark_winners(arg, won, k, marks=None):
    """``arg = k`` where ``won``, in place; ``arg`` holds tap numbers at most ``k``. ``marks``:
    an array like ``arg`` to work in (else a new one)."""
    # taps come in increasing order, so "k where won" is max(arg, won * k): two quick passes over
    # bytes instead of a masked assignment (won is bool, viewed as 0/1 bytes without a copy)
    marks = np.multiply(won.view(np.uint8), arg.dtype.type(k), out=marks, dtype=arg.dtype)
    np.maximum(arg, marks, out=arg)


def scratch(shape, dtype):
    """An uninitialised array for a loop to work in, made once and reused by every step."""
    # a fresh array of a few MB costs its page faults on first use, every time: measured 4x the
    # time of a comparison into an array that is reused
    return np.empty(shape, dtype)


def nan_winners(x, out, arg, ax, axis):
    """Make the last NaN of each window whose maximum is NaN its winner (``out``, ``arg`` from
    the search over x (P, A, B); changed in place)."""
    # np.maximum carries a NaN on, so out shows which windows hold one: one check, and the extra
    # passes only for inputs with a NaN. From a window's first NaN on no tap wins (comparisons
    # with NaN are False), so arg is below every NaN tap and mark_winners ends at the last one.
    if x.dtype.kind == "f" and np.isnan(out).any():
        for k, o, i in axis_taps(ax, axis):
            mark_winners(arg[o], np.isnan(x[i]), k)


def signed_zeros(x, out, arg, ax, axis):
    """Give each window whose maximum is 0 the sign of its winning cell (``out`` changed in place;
    from the search over x (P, A, B) along ``axis``)."""
    # 0.0 == -0.0, so the first zero wins, but np.maximum may keep either sign: where a maximum is
    # zero (one check; the extra pass only then), read the value back from the winning cell
    if x.dtype.kind == "f" and not out.all():
        shape = [1, 1, 1]
        shape[axis] = ax.out
        cells = ax.starts().reshape(shape) + arg.astype(np.int64) * ax.dilation
        zero = out == 0
        out[zero] = np.take_along_axis(x, np.clip(cells, 0, ax.size - 1), axis=axis)[zero]


# --- writing back along one axis (fast.scatter_1d) --------------------------------------------

def scatter_taps(ax, axis):
    """How the taps of one axis write back into an input of ``ax.size`` cells along ``axis``:
    ``(unwritten, steps)``. A tap whose cells no earlier tap touched is assigned (``fresh``),
    the others add; ``unwritten`` indexes the cells no fresh tap writes, to be zeroed first
    (None when there are none). steps: ``(fresh, k, output index, input index)``. Axes of more
    than :data:`WIDE` taps zero every cell and add every tap."""
    if len(ax.taps()) > WIDE:
        everything = (slice(None),) * (axis + 1)
        return everything, ((False, k, o, i) for k, o, i in axis_taps(ax, axis))
    return kept_scatter_taps(ax, axis)


@cached(4 << 20)  # cached: found with NumPy calls per tap, asked for on every call
def kept_scatter_taps(ax, axis):
    """:func:`scatter_taps` for axes of at most :data:`WIDE` taps, worked out once."""
    # assigning the first writer of each cell replaces a pass of zeros and a pass of adds by one
    # pass (0 + v == v exactly); only cells no fresh tap reaches are zeroed
    written, seen, steps = np.zeros(ax.size, bool), np.zeros(ax.size, bool), []
    for k, o, i in axis_taps(ax, axis):
        cells = np.arange(ax.size)[i[axis]]
        fresh = not seen[cells].any()
        written[cells] |= fresh
        seen[cells] = True
        steps.append((fresh, k, o, i))
    unwritten = np.flatnonzero(~written)
    unwritten.flags.writeable = False
    return ((slice(None),) * axis + (unwritten,) if len(unwritten) else None), tuple(steps)


def keep_where(grad):
    """A function ``(mask, g, into) -> g where mask, else 0`` (in ``into`` if it can) for
    gradients like ``grad``."""
    # g * mask is one multiplication, quicker than np.where, and equal to it as long as grad has
    # no inf or NaN (inf * 0 is NaN): checked once for the whole array
    if np.isfinite(grad).all():
        return lambda m, g, into: np.multiply(g, m, out=into)
    return lambda m, g, into: np.where(m, g, 0)


# --- the window sums of fast.sum_1d ------------------------------------------------------------

def sum_start(x, ax, axis, dtype, out=None):
    """Window sums before the loop of ``fast.sum_1d``, and the taps still to add.
    x: (P, A, B) -> total (``axis`` of ``ax.out``, in ``dtype``, ``out`` if given), steps."""
    first, steps = peek(axis_taps(ax, axis), 2)
    total = np.empty(shortened(x.shape, axis, ax.out), dtype) if out is None else out
    if len(first) > 1 and covers_all(first[0], ax, axis) and covers_all(first[1], ax, axis):
        # the first two taps cover every window: start from their sum, one pass instead of a
        # zeroing and two adds (same rounding: 0 + a + b == a + b)
        np.add(x[first[0][2]], x[first[1][2]], out=total, dtype=dtype)
        return total, steps
    if covers_all(first[0], ax, axis):
        total[...] = x[first[0][2]]  # tap 0 covers every window: a copy instead of 0 + tap 0
        return total, itertools.chain(first[1:], steps)
    total[...] = 0
    return total, itertools.chain(first, steps)


# --- where the maxima are: flat indices, and scattering by them --------------------------------

class Winners(NamedTuple):
    """Where each window's maximum was found. Small inputs: ``cells`` (P, oh, ow), indices into
    the whole flattened input. Others, the separable form: window (i, j) won at tap row
    ``row_arg[p, i, j]`` and, in that input row ``h``, at tap column ``col_arg[p, h, j]``
    (shapes (P, oh, ow) and (P, H, ow))."""
    cells: np.ndarray = None
    row_arg: np.ndarray = None
    col_arg: np.ndarray = None


def flat_indices(winners, rows, cols):
    """Winning cells as int64 flat indices ``h * W + w`` into each (H, W) plane: (P, oh, ow)
    (or (P * oh * ow,) for small inputs)."""
    if winners.cells is not None:
        return winners.cells % (rows.size * cols.size)
    h = rows.starts()[:, None] + winners.row_arg.astype(np.int64) * rows.dilation
    b = np.take_along_axis(winners.col_arg, h, axis=1).astype(np.int64)
    return h * cols.size + cols.starts() + b * cols.dilation


def overlaps(ax):
    """Do two windows of this axis share a cell?"""
    return ax.out > 1 and ax.stride < ax.dilation * (ax.pool - 1) + 1


def windows_overlap(rows, cols):
    """Can a cell belong to two windows?"""
    return overlaps(rows) or overlaps(cols)


def sparse_overlap(ax):
    """Do the windows of this axis overlap, with a stride of 2 or more?"""
    return ax.stride >= 2 and overlaps(ax)


def scatter_by_cell(grad, winners, rows, cols, in_shape):
    """Gradient of max pooling by flat cell index: grad (..., oh, ow) -> (*in_shape), or None
    where routing tap by tap (``fast.separable_route``) is the quicker way."""
    dtype = result_dtype(grad.dtype)
    if winners.cells is None:
        if dtype == np.float64 and sparse_overlap(rows) and sparse_overlap(cols):
            return scatter_by_plane(planes(grad), winners, rows, cols).reshape(in_shape)
        return None
    if windows_overlap(rows, cols):  # bincount adds up cells that won several windows
        gi = np.bincount(winners.cells, grad.ravel(), math.prod(in_shape)).astype(dtype, copy=False)
    else:  # every cell wins one window at most: a plain assignment
        gi = np.zeros(math.prod(in_shape), dtype)
        gi[winners.cells] = grad.ravel()
    return gi.reshape(in_shape)


def scatter_by_plane(grad, winners, rows, cols):
    """:func:`scatter_by_cell` for the separable winners, chunk by chunk of planes:
    grad (P, oh, ow) float64 -> (P, H, W) float64."""
    # overlapping windows far apart: scattering into the float64 result by flat index (bincount
    # adds up repeats) measured faster than routing tap by tap, and chunks go to the threads
    gi = np.empty((len(grad), rows.size, cols.size), np.float64)

    def work(part):
        cells = flat_indices(Winners(row_arg=winners.row_arg[part], col_arg=winners.col_arg[part]),
                             rows, cols)
        cells += (np.arange(len(cells)) * (rows.size * cols.size))[:, None, None]
        gi[part] = np.bincount(cells.ravel(), grad[part].ravel(), gi[part].size).reshape(gi[part].shape)

    each_chunk(gi, work)
    return gi


# --- tiny inputs: every window gathered at once ------------------------------------------------
# Up to SMALL cells the fixed cost of the separable route's 2k NumPy calls outweighs the
# arithmetic: one gather of all windows through a cached index table, then one reduction.

class Table(NamedTuple):
    """Every window of a small input without padding taps, as indices into the flat input."""
    index: np.ndarray     # (P * oh * ow, kh * kw): tap k of window w, row-major taps
    flat: np.ndarray      # the same, flattened
    starts: np.ndarray    # (P * oh * ow,): where each window's row starts in ``flat``
    by_tap: np.ndarray    # index transposed, (kh * kw, P * oh * ow): each tap's cells side by side


@cached(16 << 20)  # cached: building it costs more than the gather it serves
def window_table(rows, cols, n_planes):
    """The :class:`Table` of ``n_planes`` planes, or None when some taps fall in the padding."""
    if not (rows.inside() and cols.inside()):
        return None
    h = rows.starts()[:, None] + np.arange(rows.pool) * rows.dilation  # (oh, kh)
    w = cols.starts()[:, None] + np.arange(cols.pool) * cols.dilation  # (ow, kw)
    index = h[:, None, :, None] * cols.size + w[None, :, None, :]      # (oh, ow, kh, kw)
    index = np.arange(n_planes)[:, None, None, None, None] * (rows.size * cols.size) + index
    index = index.reshape(-1, rows.pool * cols.pool)
    table = Table(index, index.ravel(), np.arange(len(index)) * index.shape[1],
                  np.ascontiguousarray(index.T))
    for array in table:
        array.flags.writeable = False
    return table


def small_table(array, plane_cells, rows, cols, small=None):
    """The :class:`Table` for ``array`` (an input, or a gradient of the output) of planes of
    ``plane_cells`` cells, or None when the gather route does not apply (``array`` over ``small``
    cells (default :data:`SMALL`), windows of more than :data:`GATHERED` cells in all, or
    padding taps)."""
    windows = array.size // plane_cells * rows.out * cols.out
    if array.size > (SMALL if small is None else small) or windows * rows.pool * cols.pool > GATHERED:  # big pools: a big table
        return None
    return window_table(rows, cols, array.size // plane_cells)


def last_nan(block, arg):
    """Row-wise: the last NaN of block (M, K) where a row has one, else ``arg``."""
    nan = np.isnan(block)
    return np.where(nan.any(axis=1), block.shape[1] - 1 - nan[:, ::-1].argmax(axis=1), arg)


def first_max(block):
    """Position of each row's maximum in block (M, K): first on ties, the last NaN if any."""
    arg = block.argmax(axis=1)
    return last_nan(block, arg) if block.dtype.kind == "f" else arg


TAP_LOOP = 16  # windows of at most this many taps are searched tap by tap, bigger ones by argmax


def search_small(x, table, ties):
    """Max pooling of a small input by gathering all windows at once.
    x: (P, H, W), table: from :func:`window_table` -> out (P * L,), cells (P * L,)."""
    taps = table.index.shape[1]
    if taps > TAP_LOOP:
        cells = table.flat[table.starts + argmax_rows(x.ravel()[table.index], ties)]
        return x.ravel()[cells], cells
    # each tap's cells side by side, (K, P * L): a running maximum over K rows is quicker than an
    # argmax along K-long rows (NumPy does those one row at a time)
    by_tap = x.ravel()[table.by_tap]
    best, arg = by_tap[0].copy(), np.zeros(len(table.starts), tap_dtype(taps))
    beats = np.greater_equal if ties == "last" else np.greater  # on a tie, does tap k win?
    for k in range(1, taps):
        mark_winners(arg, beats(by_tap[k], best), k)
        np.maximum(best, by_tap[k], out=best)
    # a NaN carries on through np.maximum, and best.dot(best) is NaN exactly then (squares cannot
    # cancel): one call to see whether the last NaN of some window must win
    if x.dtype.kind == "f" and np.isnan(best.dot(best)):
        for k in range(taps):
            mark_winners(arg, np.isnan(by_tap[k]), k)
    cells = table.flat[table.starts + arg]
    if not best.all():  # a zero maximum takes its winning cell's sign (np.maximum keeps either)
        return x.ravel()[cells], cells
    return best, cells


def argmax_rows(windows, ties):
    """The winning tap of every window of windows (M, K): first maximum (``"last"``: the last),
    the last NaN."""
    if ties == "last":  # argmax of the reversed rows finds the last maximum, counted from the end
        arg = windows.shape[1] - 1 - windows[:, ::-1].argmax(axis=1)
    else:
        arg = windows.argmax(axis=1)
    if windows.dtype.kind == "f":
        out = windows[np.arange(len(windows)), arg]
        if np.isnan(out.dot(out)):  # argmax stops at the first NaN: the last one must win
            arg = last_nan(windows, arg)
    return arg


def gather_max(x, rows, cols, ties):
    """``fast.max_search`` for tiny inputs: out (..., oh, ow) and :class:`Winners` with ``cells``,
    or None where this route does not apply (``ties`` "split"/"all" need the separable form)."""
    table = None
    if ties in ("first", "last"):
        table = small_table(x, rows.size * cols.size, rows, cols, SMALL_MAX)
    if table is None:
        return None
    out, cells = search_small(x, table, ties)
    return out.reshape(x.shape[:-2] + (rows.out, cols.out)), Winners(cells=cells)


@cached(1 << 20)  # cached: a new array per call would cost as much as the mean itself
def mean_weights(taps, divisor, dtype):
    """``taps`` times ``1 / divisor``: a window's mean is ``window.dot(mean_weights)``. In ``dtype``
    (float32 stays float32, no round trip through float64), at least float32 (float16 sums)."""
    # the dot product runs in the weights' dtype: float32 for float16 windows, so that their sums
    # are not rounded to float16 at every step
    weights = np.full(taps, 1 / divisor, np.promote_types(dtype, np.float32))
    weights.flags.writeable = False
    return weights


def gather_mean(x, rows, cols, divisor, dtype):
    """``fast.avg_forward`` for tiny inputs: x (..., H, W) -> means (..., oh, ow) in ``dtype``,
    or None where this route does not apply."""
    table = small_table(x, rows.size * cols.size, rows, cols)
    if table is None:
        return None
    # no padding taps here, so one divisor for all: every mean is one dot product
    weights = mean_weights(table.index.shape[1], divisor, dtype)
    with np.errstate(invalid="ignore"):  # inf + (-inf) is NaN, silently, as on the other routes
        means = x.ravel()[table.index].dot(weights)
    return means.astype(dtype, copy=False).reshape(x.shape[:-2] + (rows.out, cols.out))


def gather_mean_backward(grad, rows, cols, divisor, in_shape):
    """``fast.avg_backward`` for tiny inputs: grad (..., oh, ow) -> (*in_shape), or None where this
    route does not apply."""
    if math.prod(in_shape) > SMALL:  # a small gradient of a big input: the separable way is quicker
        return None
    table = small_table(grad, rows.out * cols.out, rows, cols)
    if table is None:
        return None
    dtype = result_dtype(grad.dtype)
    share = grad.reshape(-1, 1) * mean_weights(table.index.shape[1], divisor, dtype)  # (windows, taps)
    if windows_overlap(rows, cols):  # bincount adds up the shares of cells in several windows
        gi = np.bincount(table.flat, share.reshape(-1), math.prod(in_shape))
    else:  # every cell is in one window at most: a plain assignment
        gi = np.zeros(math.prod(in_shape), dtype)
        gi[table.index] = share
    return gi.astype(dtype, copy=False).reshape(in_shape)
