"""Time pooling four ways: a per-window loop, im2col, pooling_lib and (if installed) PyTorch.

Notebook 09 and ``benchmarks/bench_pooling.py`` share this module. Every way is a layer with
``forward(x)`` and ``backward(grad, learning_rate)`` on ``(N, C, H, W)`` arrays, no padding:
:data:`LAYERS` names them by mode (the im2col layers are ``pooling_lib.im2col``'s own).
:func:`compare` times them on configs ``(N, C, H, W, pool, stride)`` and returns one row per
config, mode, dtype and pass; :func:`format_table` prints rows, :func:`plot_timings` draws them
on a log scale. Timings change from run to run: compare them within one run only.
PyTorch is used when ``import torch`` works, on one thread and on all of its threads (its
default); it is never required. Each row also has the peak memory of pooling_lib's pass
(:func:`peak_bytes`), which :func:`format_threads_table` shows next to the thread timings.
"""
import statistics
import time
import timeit
import tracemalloc
from itertools import product

import numpy as np

from .. import im2col
from ..geometry import plan
from ..layers import MODES

METHODS = ("pooling_lib", "im2col", "loop", "torch")   # the columns of a row, in table order
PASSES = ("forward", "fwd+bwd")
COLOURS = {"pooling_lib": "#009E73", "im2col": "#0072B2", "loop": "#D55E00", "torch": "#CC79A7"}
MORE_COLOURS = ("#E69F00", "#56B4E9", "#999999", "#000000")  # for other names (Okabe & Ito)


# --- the layers being timed ----------------------------------------------------------------------

class LoopMaxPool:
    """The per-window loop version most tutorials write (no padding)."""

    reduce = staticmethod(np.max)

    def __init__(self, pool, stride):
        self.pool, self.stride = pool, stride

    def forward(self, x):
        self.input = x
        N, C, H, W = x.shape
        k, s = self.pool, self.stride
        out = np.empty((N, C) + output_shape(H, W, k, s), x.dtype)
        for n in range(N):
            for c in range(C):
                for i in range(out.shape[2]):
                    for j in range(out.shape[3]):
                        out[n, c, i, j] = self.reduce(x[n, c, i * s:i * s + k, j * s:j * s + k])
        return out

    def backward(self, grad, learning_rate=None):
        x, k, s = self.input, self.pool, self.stride
        grad_input = np.zeros_like(x)
        N, C, oh, ow = grad.shape
        for n in range(N):
            for c in range(C):
                for i in range(oh):
                    for j in range(ow):
                        window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                        h, w = np.unravel_index(window.argmax(), window.shape)
                        grad_input[n, c, i * s + h, j * s + w] += grad[n, c, i, j]
        return grad_input


class LoopAvgPool(LoopMaxPool):
    """The same loops with ``mean``; the backward pass spreads ``grad / k²`` over each window."""

    reduce = staticmethod(np.mean)

    def backward(self, grad, learning_rate=None):
        k, s = self.pool, self.stride
        grad_input = np.zeros_like(self.input)
        oh, ow = grad.shape[2:]
        for i in range(oh):
            for j in range(ow):
                grad_input[:, :, i * s:i * s + k, j * s:j * s + k] += grad[:, :, i:i + 1, j:j + 1] / k**2
        return grad_input


LAYERS = {  # the layer class of every NumPy method, by mode (PyTorch's: torch_layer)
    "max": {"pooling_lib": MODES["max"].layer, "im2col": im2col.Im2colMaxPool, "loop": LoopMaxPool},
    "avg": {"pooling_lib": MODES["avg"].layer, "im2col": im2col.Im2colAvgPool, "loop": LoopAvgPool},
}
TORCH_FUNCTIONS = {"max": "max_pool2d", "avg": "avg_pool2d"}  # in torch.nn.functional


def output_shape(H, W, pool, stride):
    """``(oh, ow)``: how many ``pool`` x ``pool`` windows at ``stride`` fit in H x W (no padding)."""
    rows, cols = plan((H, W), pool, stride)
    return rows.out, cols.out


TORCH_THREADS = []  # PyTorch's own thread count, read once before we change it


def torch_threads():
    """PyTorch's default number of threads (all the cores it uses), or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    if not TORCH_THREADS:
        TORCH_THREADS.append(torch.get_num_threads())
    return TORCH_THREADS[0]


def torch_layer(mode, pool, stride, threads=1):
    """``(layer, numpy-to-tensor)`` for PyTorch's pooling on ``threads`` threads (None: all of
    them), or None without torch. The thread count is set when the layer is timed."""
    default = torch_threads()
    if default is None:
        return None
    import torch
    threads = threads or default
    torch.set_num_threads(threads)
    fn = getattr(torch.nn.functional, TORCH_FUNCTIONS[mode])

    class TorchPool:
        def prepare(self):
            torch.set_num_threads(threads)

        def forward(self, x):
            self.input = torch.from_numpy(x).requires_grad_()
            self.output = fn(self.input, pool, stride)
            return self.output

        def backward(self, grad, learning_rate=None):
            self.output.backward(grad)
            return self.input.grad

        def forward_only(self, x):
            with torch.no_grad():
                return fn(torch.from_numpy(x), pool, stride)

    return TorchPool(), torch.from_numpy


def available():
    """The methods :func:`compare` can time here (``"torch"`` only when PyTorch imports)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return [m for m in METHODS if m != "torch"]
    return list(METHODS)


# --- timing --------------------------------------------------------------------------------------

SAMPLE = 1e-3  # seconds: calls shorter than this are timed in batches that last about as long


def median_time(fn, budget, runs=3):
    """Median seconds per call of fn() over samples filling about ``budget`` seconds (``runs``
    to 200 samples), after one warm-up call. A sample is one call, or for calls shorter than
    :data:`SAMPLE` a batch of back-to-back calls, so the clock's own cost does not count."""
    start = time.perf_counter()
    fn()
    number = max(1, min(1000, int(SAMPLE / max(time.perf_counter() - start, 1e-9))))
    times = []
    while len(times) < runs or (sum(times) * number < budget and len(times) < 200):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def measure(name, layer, x, grad, budget, scale=1, runs=3):
    """(name, forward seconds, forward + backward seconds) of a layer on x, times ``scale``."""
    forward = getattr(layer, "forward_only", layer.forward)
    getattr(layer, "prepare", lambda: None)()  # e.g. PyTorch's thread count

    def forward_backward():
        layer.forward(x)
        layer.backward(grad, None)

    return name, median_time(lambda: forward(x), budget, runs) * scale, \
        median_time(forward_backward, budget, runs) * scale


def window_steps(x, pool, stride, number=2000):
    """``{statement: seconds}``: the steps of :class:`LoopMaxPool`'s loop body for one window
    of ``x`` (N, C, H, W), each timed alone (best of 5 repeats of ``number`` runs)."""
    k, s = pool, stride
    names = {"np": np, "x": x, "n": 0, "c": 0, "i": 1, "j": 1, "k": k, "s": s,
             "out": np.empty(x.shape)}
    names["window"] = x[0, 0, s:s + k, s:s + k]
    names["m"] = np.max(names["window"])
    return {code: min(timeit.repeat(code, globals=names, number=number, repeat=5)) / number
            for code in ("x[n, c, i*s:i*s + k, j*s:j*s + k]", "np.max(window)", "out[n, c, i, j] = m")}


# The loop is left out above this many windows a sample: at about 4 µs a window forward and 7 µs
# forward + backward, timing it (a warm-up and 3 calls a pass) would take over ~10 s.
LOOP_WINDOWS = 200_000


def peak_bytes(layer, x, grad):
    """Peak bytes traced (``tracemalloc``) during ``layer.forward(x)``, and during a forward then
    a backward pass: ``(forward, fwd+bwd)``, the results included."""
    peaks = []
    for backward in (False, True):
        tracemalloc.start()
        try:
            layer.forward(x)
            if backward:
                layer.backward(grad, None)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return tuple(peaks)


def run(config, mode, dtype, budget, runs=3):
    """``[(method, forward s, fwd+bwd s), ...]`` for one config, each a median of at least
    ``runs`` runs, and pooling_lib's :func:`peak_bytes` as method ``"peak"``. The loop is timed
    on one sample of the batch and multiplied by N (its cost grows exactly with N; it would take
    minutes), and left out above :data:`LOOP_WINDOWS` windows a sample. PyTorch: ``"torch"`` on
    one thread, ``"torch_all"`` on all of its threads (:func:`torch_threads`)."""
    N, C, H, W, pool, stride = config
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    grad = rng.standard_normal((N, C) + output_shape(H, W, pool, stride)).astype(dtype)
    layer = {method: make(pool, stride) for method, make in LAYERS[mode].items()}
    times = [measure("pooling_lib", layer["pooling_lib"], x, grad, budget, runs=runs),
             measure("im2col", layer["im2col"], x, grad, budget, runs=runs)]
    if grad[:1].size <= LOOP_WINDOWS:
        times.append(measure("loop", layer["loop"], x[:1], grad[:1], min(budget, 0.5), scale=N, runs=runs))
    for name, threads in (("torch", 1), ("torch_all", None)):
        torch = torch_layer(mode, pool, stride, threads)
        if torch is not None:
            torch_pool, to_tensor = torch
            times.append(measure(name, torch_pool, x, to_tensor(grad), budget, runs=runs))
    return times + [("peak", *peak_bytes(layer["pooling_lib"], x, grad))]


def compare(configs, modes=("max",), dtypes=(np.float64,), budget=0.05, runs=3):
    """Time every method on every config ``(N, C, H, W, pool, stride)``, mode and dtype.

    Returns a list of dicts, two per (config, mode, dtype) — pass ``"forward"`` then
    ``"fwd+bwd"`` — with keys ``config, mode, dtype, pass``, one per method in :data:`METHODS`
    and ``"torch_all"`` (PyTorch on all its threads): median seconds, or None for a method that
    cannot run here (torch); and ``"peak"``, pooling_lib's peak bytes in that pass.
    Each median takes at least ``runs`` runs and about ``budget`` seconds."""
    rows = []
    for config, mode, dtype in product(map(tuple, configs), modes, dtypes):
        times = {name: (f, b) for name, f, b in run(config, mode, dtype, budget, runs)}
        for p, label in enumerate(PASSES):
            rows.append({"config": config, "mode": mode, "dtype": np.dtype(dtype).name,
                         "pass": label, **{m: times[m][p] if m in times else None
                                           for m in (*METHODS, "torch_all", "peak")}})
    return rows


# --- showing the numbers -------------------------------------------------------------------------

HEADER = (f"{'N,C,H,W,pool,stride':<24}{'mode':<5}{'dtype':<8}{'pass':<9}"  # times in µs
          f"{'ours µs':>10}{'im2col µs':>10}{'loop µs':>12}{'torch µs':>10}{'ours/torch':>11}"
          f"{'loop/ours':>10}")


MISSING = "-"  # in a table: a method that did not run here (no torch, or the loop on a huge config)


def cell(value, width, spec=".1f"):
    """``value`` formatted with ``spec``, right-aligned in ``width`` characters; :data:`MISSING`
    for None (a method that did not run)."""
    return f"{MISSING if value is None else format(value, spec):>{width}}"


def ratio(a, b):
    """a / b, or None when either is missing."""
    return None if a is None or b is None else a / b


def micros(row, method):
    """The row's time of ``method`` in microseconds, or None if it did not run."""
    return None if row[method] is None else row[method] * 1e6


def row_label(row):
    """The first four cells of a table line: config, mode, dtype, pass."""
    return f"{','.join(map(str, row['config'])):<24}{row['mode']:<5}{row['dtype']:<8}{row['pass']:<9}"


def format_rows(rows):
    """One line of the table per row: times in microseconds, ratios within this run, ``-`` for
    a method that did not run."""
    lines = []
    for r in rows:
        t = {m: micros(r, m) for m in METHODS}
        lines.append(row_label(r) + cell(t["pooling_lib"], 10) + cell(t["im2col"], 10)
                     + cell(t["loop"], 12, ".0f") + cell(t["torch"], 10)
                     + cell(ratio(t["pooling_lib"], t["torch"]), 11, ".2f")
                     + cell(ratio(t["loop"], t["pooling_lib"]), 10, ".0f"))
    return lines


def format_table(rows):
    """The whole table as text: header, rule, one line per row."""
    return "\n".join([HEADER, "-" * len(HEADER), *format_rows(rows)])


def array_bytes(row):
    """Bytes of the input (N, C, H, W) and output (N, C, oh, ow) of a row's config and dtype."""
    N, C, H, W, pool, stride = row["config"]
    return np.dtype(row["dtype"]).itemsize * N * C * (H * W + np.prod(output_shape(H, W, pool, stride)))


THREADS_HEADER = (f"{'N,C,H,W,pool,stride':<24}{'mode':<5}{'dtype':<8}{'pass':<9}{'ours µs':>10}"
                  f"{'torch×1 µs':>12}{'torch×all µs':>14}{'ours/×1':>9}{'ours/×all':>11}"
                  f"{'peak MB':>9}{'peak/(in+out)':>15}")


def format_threads_table(rows):
    """pooling_lib against PyTorch on one thread and on all of its threads, and pooling_lib's
    peak memory, as text: header, rule, one line per row (times in µs, ratios of this run,
    ``-`` where PyTorch did not run; peak in MB of 2**20 bytes and per input + output byte)."""
    lines = [THREADS_HEADER, "-" * len(THREADS_HEADER)]
    for r in rows:
        ours, one, every = (micros(r, m) for m in ("pooling_lib", "torch", "torch_all"))
        lines.append(row_label(r) + cell(ours, 10) + cell(one, 12) + cell(every, 14)
                     + cell(ratio(ours, one), 9, ".2f") + cell(ratio(ours, every), 11, ".2f")
                     + cell(r["peak"] / 2**20, 9, ".3g") + cell(r["peak"] / array_bytes(r), 15, ".2f"))
    return "\n".join(lines)


def format_time(seconds):
    """``850 ns``, ``12 µs``, ``4.1 ms``, ``1.2 s``: two or three significant digits."""
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            return f"{value:.2g} {unit}" if value < 9.95 else f"{value:.0f} {unit}"


def plot_times(times, title=""):
    """A log-scale bar chart of ``{name: seconds}``: one bar per name."""
    return bar_figure([(title, [("", times)])])


def plot_timings(rows):
    """A log-scale bar chart of :func:`compare`'s rows: one panel per pass, one group of bars
    per config (and mode and dtype when they vary), one bar per method that ran."""
    vary = [key for key in ("mode", "dtype") if len({r[key] for r in rows}) > 1]
    panels = []
    for label in PASSES:
        groups = [(config_label(r, vary), {m: r[m] for m in METHODS if r[m] is not None})
                  for r in rows if r["pass"] == label]
        if groups:
            panels.append(("forward + backward" if label == "fwd+bwd" else label, groups))
    return bar_figure(panels)


def config_label(row, vary=()):
    """``1×8×32×32\\n3×3 / 2`` (plus mode and dtype if named in ``vary``)."""
    N, C, H, W, pool, stride = row["config"]
    extra = " ".join(row[key] for key in vary)
    return f"{N}×{C}×{H}×{W}\n{pool}×{pool} / {stride}" + (f"\n{extra}" if extra else "")


def bar_figure(panels):
    """A matplotlib Figure of horizontal bars on a log time axis, panels side by side.

    ``panels``: ``[(title, [(group label, {name: seconds}), ...]), ...]``, the same groups in
    every panel (only the first names them). Bars are coloured by name, labelled with their
    time; a legend names the colours when there are several groups."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    names = list(dict.fromkeys(n for _, groups in panels for _, times in groups for n in times))
    extra = iter(MORE_COLOURS * 3)
    colours = {n: COLOURS.get(n) or next(extra) for n in names}
    values = [t for _, groups in panels for _, times in groups for t in times.values()]
    low, high = min(values) / 3, max(values) * 8     # room on the right for the labels
    single = all(len(groups) == 1 for _, groups in panels)
    rows = max(sum(len(times) + 1 for _, times in groups) - 1 for _, groups in panels)
    longest = max(len(line) for _, groups in panels for label, times in groups
                  for line in ([*times] if single else label.splitlines()))
    left = max(1.0, 0.055 * longest + 0.3)                                 # room for the labels
    width, gap, top, bottom = 3.7, 0.25, 0.35 + (0 if single else 0.3), 0.6  # inches
    size = (left + len(panels) * (width + gap), top + 0.27 * rows + bottom)
    figure = Figure(figsize=size, dpi=100)
    for k, (title, groups) in enumerate(panels):
        ax = figure.add_axes(((left + k * (width + gap)) / size[0], bottom / size[1],
                              width / size[0], 0.27 * rows / size[1]))
        y, ticks, labels = 0, [], []
        for label, times in groups:
            first = y
            for name, seconds in times.items():
                ax.barh(y, seconds - low, left=low, height=0.8, color=colours[name])
                ax.text(seconds * 1.15, y, format_time(seconds), va="center", fontsize=9.5)
                ticks.append(y)
                labels.append(name)
                y += 1
            if not single:
                ticks[len(ticks) - len(times):] = [(first + y - 1) / 2]
                labels[len(labels) - len(times):] = [label]
            y += 1
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        ax.set_ylim(y - 1.5, -0.5)
        ax.set_yticks(ticks, labels if k == 0 else [], fontsize=9.5)
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=6))
        ax.xaxis.set_minor_locator(NullLocator())   # (hundreds of minor ticks are slow to draw)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_time(v)))
        ax.tick_params(axis="x", labelsize=9.5)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title(title, fontsize=10)
    if not single:
        figure.legend([Patch(color=colours[n]) for n in names], names, loc="upper center",
                      ncol=len(names), fontsize=9.5, frameon=False)
    figure.text(0.5, 0.02, "time (log scale: each step to the right is 10× slower)",
                ha="center", va="bottom", fontsize=9.5)
    return figure
