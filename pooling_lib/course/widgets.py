"""Interactive explorers for the pooling notebooks, built with ipywidgets on ``plotting``.

Every explorer is an :class:`Explorer`: a VBox holding its controls, a picture, a live
formula and a message line. Notebooks and tests can reach

- ``explorer.controls``: the controls by name (``explorer.controls["stride"].value = 2``);
- ``explorer.png`` (or ``explorer.image.value``): the current picture, PNG bytes;
- ``explorer.formula.value`` and ``explorer.message.value``: formula and message, as HTML.

A setting that cannot be pooled never raises: the message says why, and the picture keeps
the last setting that worked. ``python -m pooling_lib.course.widgets`` times every explorer.
"""
import html
import io
import statistics
import time

import ipywidgets as widgets
import matplotlib.cbook
import matplotlib.image
import numpy as np
from matplotlib.figure import Figure

from ..layers import AvgPool, MaxPool
from .plotting import (MODE_NAMES, Outlines, Pooling, draw_gradient, draw_images, draw_window,
                       format_decimal, format_fraction, window_taps)

SEED = 0
MODES = [("max", "max"), ("average", "avg")]
TIES = ["first", "last", "split", "all"]
MINUS = "\u2212"

HINTS = (  # (words in pooling_lib's message, what to tell the student)
    ("padding must be at most", "Padding can be at most half the region (region // 2)."),
    # a smaller stride never helps here: with the window wider than the input there is no room
    ("output size must be", "The window is wider than the input: use a smaller region{dilation}, "
                            "a bigger input{padding}."),
    ("holds no input cell", "A window would hold padding only: use less padding or less dilation."),
    ("ceil_mode", "Rounding up (ceil mode) works with a number of padding cells only."),
    ("no dilation", "Average pooling has no dilation: set dilation to 1, or switch to max."),
    ("too small for this stack", "The input is too small for this stack: make it bigger, "
                                 "or pick another stack."),   # receptive_field_explorer
)


# --- inputs --------------------------------------------------------------------------------------

def small_input(size, seed=SEED):
    """Seeded random digits 0..9, shape ``(size, size)``; a smaller input is a crop of a larger."""
    return np.random.default_rng(seed).integers(0, 10, (max(size, 8),) * 2)[:size, :size]


def distinct_input(size=6, seed=SEED, tie=False):
    """The numbers ``0 .. size*size-1`` shuffled, shape ``(size, size)``: every maximum is unique.
    With ``tie``, two neighbouring cells near the middle share a new maximum."""
    x = np.random.default_rng(seed).permutation(size * size).reshape(size, size)
    if tie:
        middle = (size - 1) // 2
        x[middle, middle:middle + 2] = size * size
    return x


def sample_photo(shrink=4):
    """Grace Hopper's portrait (shipped with matplotlib), grey, values 0..1, made ``shrink``
    times smaller: shape ``(150, 128)`` by default."""
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        rgb = matplotlib.image.imread(file)
    grey = rgb[..., :3] @ np.array([0.299, 0.587, 0.114]) / 255
    h, w = grey.shape[0] // shrink, grey.shape[1] // shrink
    return grey[:h * shrink, :w * shrink].reshape(h, shrink, w, shrink).mean(axis=(1, 3))


def edge_map(image):
    """A feature map like those of a CNN's first layer: ReLU(right - left) lights up the edges
    where the image gets brighter to the right. ``image`` (H, W) -> (H, W - 2)."""
    return np.maximum(image[:, 2:] - image[:, :-2], 0)


# --- the explorer --------------------------------------------------------------------------------

def kindly(error, controls=()):
    """HTML explaining a refused setting: a short hint that names only the ``controls`` the
    explorer has, then pooling_lib's own words."""
    text = str(error)
    hint = next((h for words, h in HINTS if words in text), "These settings can't be pooled.")
    hint = hint.format(dilation=" or dilation" if "dilation" in controls else "",
                       padding=" or more padding" if "padding" in controls else "")
    return (f'<span style="color:#D55E00">&#9888; {hint}</span> '  # orange: readable on light and dark
            f'<small style="color:var(--jp-ui-font-color2, #595959)">({html.escape(text)})</small>')


def counted(n, noun):
    """``"1 pool"``, ``"4 pools"``: a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def faded(png, keep=0.35):
    """The PNG ``png`` washed out towards white (``keep`` of its contrast left): the picture
    of a setting that no longer holds, shown beside the message that says why."""
    from PIL import Image
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    white = Image.new("RGB", picture.size, "white")
    out = io.BytesIO()
    Image.blend(white, picture, keep).save(out, format="png")
    return out.getvalue()


class Explorer(widgets.VBox):
    """Controls, a picture, a live formula and a message line.

    ``draw(explorer)`` reads the controls (``explorer.value(name)``), writes
    ``explorer.formula.value`` and returns a picture with a ``png()`` method, reusing
    ``explorer.picture`` when it can. A ``ValueError`` from it becomes the message.
    ``extras`` are widgets shown with the controls that do not redraw by themselves.
    """

    def __init__(self, controls, draw, extras=()):
        self.controls = dict(controls)
        self.draw = draw
        self.picture = None
        self.image = widgets.Image(format="png",  # shrinks to fit narrow columns, never stretches
                                   layout=widgets.Layout(max_width="100%", height="auto",
                                                         align_self="flex-start"))
        self.formula = widgets.HTML()
        self.message = widgets.HTML()
        self._busy = False
        self._last_png = None
        panel = widgets.HBox([*extras, *self.controls.values()],
                             layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([panel, self.image, self.formula, self.message])
        for control in self.controls.values():
            control.observe(self.refresh, names="value")
        self.refresh()

    def __repr__(self):
        # what a notebook shows where the explorer would be, before its cell has run
        return f"{type(self).__name__}: run this cell to get the sliders"

    @property
    def png(self):
        """The current picture, PNG bytes."""
        return bytes(self.image.value)

    def value(self, name):
        """The value of control ``name``."""
        return self.controls[name].value

    def set_count(self, name, count):
        """Let slider ``name`` run over ``0 .. count - 1``; returns its (possibly lowered) value."""
        self.controls[name].max = max(count - 1, 0)
        return self.controls[name].value

    def refresh(self, change=None):
        """Redraw for the current settings; called on every control change."""
        if self._busy:  # a control moved by draw itself (e.g. a range that shrank)
            return
        self._busy = True
        try:
            self.picture = self.draw(self)
            self.image.value = self._last_png = self.picture.png()
            self.message.value = ""
        except ValueError as error:
            self.message.value = kindly(error, self.controls)
            if self._last_png is not None:  # the last picture stays, faded: it is out of date
                self.image.value = faded(self._last_png)
        finally:
            self._busy = False


def _slider(description, value, low, high):
    return widgets.IntSlider(value=value, min=low, max=high, description=description,
                             continuous_update=True, style={"description_width": "initial"},
                             layout=widgets.Layout(width="230px"))


def _toggle(options, value=None):
    """Toggle buttons for ``(label, value)`` options; the first one is chosen unless ``value``."""
    return widgets.ToggleButtons(options=options, value=value or options[0][1],
                                 style={"button_width": "auto"})


def _int(n):
    """An integer as text with a real minus sign."""
    return str(n).replace("-", MINUS)


# --- formulas ------------------------------------------------------------------------------------

def textbook_formula(size, region, stride):
    """HTML of ``out = floor((L - F) / S) + 1`` with the numbers put in."""
    out = (size - region) // stride + 1
    text = (f"out = &lfloor;(L &minus; F) / S&rfloor; + 1 = &lfloor;({size} &minus; {region}) / "
            f"{stride}&rfloor; + 1 = <b>{_int(out)}</b>")
    if out >= 1:
        text += f" per side, so {out} &times; {out} = {counted(out * out, 'pool')}"
        left = size - ((out - 1) * stride + region)   # cells after the last window
        if left:
            text += (f"; the last {counted(left, 'row')} and {counted(left, 'column')} "
                     "fit in no window (grey)")
    return text


def padded_formula(size, region, stride, padding, dilation, ceil_mode):
    """HTML of the output-size formula with padding, dilation and ceil_mode, numbers put in.
    ``padding``: an int, ``"valid"`` or ``"same"``."""
    eff = dilation * (region - 1) + 1
    lines = [f"eff = d&middot;(F &minus; 1) + 1 = {dilation}&middot;({region} &minus; 1) + 1 "
             f"= {eff}"]
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + eff - size, 0)
        lines += [f"'same': out = &lceil;L / S&rceil; = &lceil;{size} / {stride}&rceil; "
                  f"= <b>{out}</b>",
                  f"padding = max((out &minus; 1)&middot;S + eff &minus; L, 0) = "
                  f"max({out - 1}&middot;{stride} + {eff} &minus; {size}, 0) = {total}: "
                  f"{total // 2} before, {total - total // 2} after"]
        return "<br>".join(lines)
    if padding == "valid":
        lines.append("'valid' means no padding: P = 0")
        padding = 0
    span = size + 2 * padding - eff
    left, right, out = ("&lceil;", "&rceil;", -(-span // stride) + 1) if ceil_mode else \
                       ("&lfloor;", "&rfloor;", span // stride + 1)
    line = (f"out = {left}(L + 2P &minus; eff) / S{right} + 1 = {left}({size} + 2&middot;{padding} "
            f"&minus; {eff}) / {stride}{right} + 1 = <b>{_int(out)}</b>")
    if ceil_mode and out >= 1 and (out - 1) * stride >= size + padding:
        line += (f", but the last window would start in the right padding, so it is dropped: "
                 f"out = <b>{out - 1}</b>")
        out -= 1
    if ceil_mode and out > span // stride + 1 >= 1:
        line += (f"<br>Rounding up keeps one window more than the floor would: it hangs over the "
                 f"edge, onto the dashed cells, which it does not read")
    return "<br>".join(lines + [line])


# --- explorers -----------------------------------------------------------------------------------

def draw_chosen_window(explorer, x, pooling):
    """Draw ``pooling`` over ``x`` with the window the explorer's "window" slider picks (the
    slider first runs over as many windows as there are)."""
    rows, cols = pooling.axes(x.shape)
    index = explorer.set_count("window", rows.out * cols.out)
    return draw_window(x, pooling, index, picture=explorer.picture)


def pool_explorer(size=6, region=2, stride=2):
    """Sliders for input size, region and stride over a small input, and a slider that moves
    the window; shows the window, its output cell and ``out = floor((L - F) / S) + 1``."""
    controls = {"size": _slider("input size", size, 3, 8),
                "region": _slider("region", region, 1, 5),
                "stride": _slider("stride", stride, 1, 4),
                "mode": _toggle(MODES),
                "window": _slider("window", 0, 0, 8)}

    def draw(explorer):
        L, F, S = (explorer.value(k) for k in ("size", "region", "stride"))
        explorer.formula.value = textbook_formula(L, F, S)
        return draw_chosen_window(explorer, small_input(L), Pooling(explorer.value("mode"), F, S))

    return Explorer(controls, draw)


def max_vs_avg_explorer(image=None, region=4, stride=4):
    """Max and average pooling side by side over ``image`` (H, W) (default: a grey photo),
    with region and stride sliders."""
    image = sample_photo() if image is None else np.asarray(image, dtype=float)
    controls = {"mode": _toggle([("max", "max"), ("average", "avg"), ("both", "both")], "both"),
                "region": _slider("region", region, 1, 8),
                "stride": _slider("stride", stride, 1, 8)}

    def draw(explorer):
        F, S = explorer.value("region"), explorer.value("stride")
        modes = ["max", "avg"] if explorer.value("mode") == "both" else [explorer.value("mode")]
        (h, w), (oh, ow) = image.shape, ((n - F) // S + 1 for n in image.shape)
        explorer.formula.value = (
            f"out = &lfloor;({h} &minus; {F}) / {S}&rfloor; + 1 = {_int(oh)} rows, "
            f"&lfloor;({w} &minus; {F}) / {S}&rfloor; + 1 = {_int(ow)} columns"
            + (f": {oh * ow} numbers instead of {h * w}" if min(oh, ow) >= 1 else ""))
        pooled = [Pooling(mode, F, S).forward(image) for mode in modes]
        titles = [f"input {h}\u00d7{w}"] + [
            f"{MODE_NAMES[mode]} {F}\u00d7{F}, stride {S} \u2192 "
            f"{p.shape[0]}\u00d7{p.shape[1]}" for mode, p in zip(modes, pooled)]
        return draw_images([image, *pooled], titles, explorer.picture)

    return Explorer(controls, draw)


def forward_stepper(x=None, region=2, stride=1):
    """Step the window over a small input ``x`` (H, W) one position at a time (Play, previous,
    next) and watch the output fill in cell by cell."""
    x = small_input(5) if x is None else np.asarray(x)
    controls = {"region": _slider("region", region, 1, 4),
                "stride": _slider("stride", stride, 1, 3),
                "mode": _toggle(MODES),
                "step": _slider("step", 0, 0, 8)}
    play = widgets.Play(value=0, min=0, max=8, interval=800, description="play")
    widgets.link((play, "value"), (controls["step"], "value"))
    previous = widgets.Button(description="\u25c0 previous", layout=widgets.Layout(width="auto"))
    following = widgets.Button(description="next \u25b6", layout=widgets.Layout(width="auto"))

    def draw(explorer):
        mode = explorer.value("mode")
        pooling = Pooling(mode, explorer.value("region"), explorer.value("stride"))
        rows, cols = pooling.axes(x.shape)
        count = rows.out * cols.out
        step = explorer.set_count("step", count)
        play.max = count - 1
        picture = draw_window(x, pooling, step, filled=step + 1, picture=explorer.picture)
        i, j = divmod(step, cols.out)
        r, c = window_taps(rows, i), window_taps(cols, j)
        cells = [str(v) for v in x[np.ix_(r, c)].ravel()]
        how = (f"max({', '.join(cells)})" if mode == "max"
               else f"({' + '.join(cells)}) / {len(cells)}")
        result = format_decimal(picture.output.values[i, j])
        explorer.formula.value = (
            f"step {step + 1} of {count}: rows {r[0]}&ndash;{r[-1]}, columns {c[0]}&ndash;{c[-1]} "
            f"&rarr; {how} = <b>{result}</b> goes to out[{i}, {j}]")
        return picture

    explorer = Explorer(controls, draw, extras=[play, previous, following])
    previous.on_click(lambda _: _move(controls["step"], -1))
    following.on_click(lambda _: _move(controls["step"], +1))
    explorer.play, explorer.previous_button, explorer.next_button = play, previous, following
    return explorer


def _move(slider, delta):
    slider.value = min(max(slider.value + delta, slider.min), slider.max)


def backward_explorer(region=3, stride=1):
    """Pick an output cell and see which input cells receive its gradient; next to it, the
    total gradient when every output cell sends 1, where overlapping windows add up."""
    controls = {"row": _slider("output row", 0, 0, 3),
                "col": _slider("output column", 0, 0, 3),
                "region": _slider("region", region, 1, 4),
                "stride": _slider("stride", stride, 1, 3),
                "mode": _toggle(MODES),
                "ties": widgets.Dropdown(options=TIES, value="first", description="ties",
                                         layout=widgets.Layout(width="150px")),
                "tie": widgets.Checkbox(value=False, description="make a tie")}

    def draw(explorer):
        x = distinct_input(tie=explorer.value("tie"))
        mode, ties = explorer.value("mode"), explorer.value("ties")
        pooling = Pooling(mode, explorer.value("region"), explorer.value("stride"))
        rows, cols = pooling.axes(x.shape)
        cell = explorer.set_count("row", rows.out), explorer.set_count("col", cols.out)
        explorer.controls["ties"].disabled = mode != "max"
        picture = draw_gradient(x, pooling, cell, ties, explorer.picture)
        window = x[np.ix_(window_taps(rows, cell[0]), window_taps(cols, cell[1]))]
        explorer.formula.value = gradient_story(picture, window, cell, pooling, ties)
        return picture

    return Explorer(controls, draw)


TIE_STORIES = {  # what each tie policy does with a gradient of 1
    "first": "gives all of it to the first one, {receivers}",
    "last": "gives all of it to the last one, {receivers}",
    "split": "gives each 1/{tied}",
    "all": "gives each the full 1, so {tied} in total: more than was sent, not a true gradient",
}


def gradient_story(picture, window, cell, pooling, ties):
    """HTML telling where the gradient of output ``cell`` goes (``window``: its input cells)
    and how the total adds up, read from the grids of a drawn GradientPicture."""
    i, j = cell
    who = f"y[{i}, {j}]"
    if pooling.mode == "avg":
        first = (f"{who} is the average of {counted(window.size, 'cell')}, so each gets "
                 f"1/{window.size} of it")
    else:
        who += f" = {format_decimal(picture.output.values[i, j])}"
        receivers = ", ".join(f"x[{r}, {c}]" for r, c in np.argwhere(picture.from_cell.values))
        tied = int((window == window.max()).sum())
        first = (f"{who} came from {receivers}, so only that cell gets its gradient (1)"
                 if tied == 1 else f"{who} is a tie of {tied} cells; ties='{ties}' "
                 + TIE_STORIES[ties].format(receivers=receivers, tied=tied))
    if pooling.stride < pooling.pool_size:
        adds = (f"Windows overlap (stride {pooling.stride} &lt; region {pooling.pool_size}), so "
                f"the gradients add up: to {format_fraction(picture.total.values.max())} at most.")
    else:
        adds = "Windows do not overlap, so nothing adds up."
    return f"{first}.<br>On the right, every output cell sends 1. {adds}"


def padding_explorer(size=5, region=3, stride=2, padding=1):
    """Every setting of the output size at once: input size, region, stride, padding (a number,
    'valid' or 'same'), dilation and ceil_mode, with the live formula and the window's taps."""
    controls = {"size": _slider("input size", size, 3, 8),
                "region": _slider("region", region, 1, 5),
                "stride": _slider("stride", stride, 1, 4),
                "padding": _slider("padding", padding, 0, 3),
                "dilation": _slider("dilation", 1, 1, 3),
                "padding_mode": widgets.Dropdown(
                    options=[("number", "number"), ("'valid'", "valid"), ("'same'", "same")],
                    value="number", description="padding mode",
                    style={"description_width": "initial"}, layout=widgets.Layout(width="210px")),
                "ceil_mode": widgets.Checkbox(value=False, description="ceil_mode"),
                "mode": _toggle(MODES),
                "window": _slider("window", 0, 0, 8)}

    def draw(explorer):
        L, F, S, d = (explorer.value(k) for k in ("size", "region", "stride", "dilation"))
        numeric = explorer.value("padding_mode") == "number"
        padding = explorer.value("padding") if numeric else explorer.value("padding_mode")
        explorer.controls["padding"].disabled = not numeric
        explorer.formula.value = (padded_formula(L, F, S, padding, d, explorer.value("ceil_mode"))
                                  + "<br>" + padding_note(explorer.value("mode"), numeric))
        pooling = Pooling(explorer.value("mode"), F, S, padding, d, explorer.value("ceil_mode"))
        return draw_chosen_window(explorer, small_input(L), pooling)

    return Explorer(controls, draw)


def padding_note(mode, numeric):
    """One line on what a padding cell is worth for ``mode`` ("max" / "avg")."""
    if mode == "max":
        return "Max pooling: a padding cell is worth &minus;&infin;, so it never wins."
    if numeric:
        return "Average pooling: a padding cell counts as 0, and counts in the divisor."
    return "Average pooling with 'same': only the real cells are averaged."


# --- speed ---------------------------------------------------------------------------------------

SPEED_WINDOWS = [("2\u00d72, stride 2", (2, 2)), ("3\u00d73, stride 2", (3, 2)),
                 ("3\u00d73, stride 1", (3, 1))]


class FigurePicture:
    """A matplotlib Figure with the ``png()`` an :class:`Explorer` shows."""

    def __init__(self, figure):
        self.figure = figure

    def png(self, compress_level=1):
        from .plotting import figure_png
        return figure_png(self.figure, compress_level)


def speed_explorer(size=32, channels=4, budget=0.02):
    """Time the loop, im2col, pooling_lib (and PyTorch, when installed) on a seeded
    ``(1, channels, size, size)`` input, forward and forward + backward: every change of input
    size, window or mode times them again and redraws the log-scale bars (under a second)."""
    from .benchmark import compare, plot_timings
    controls = {"size": widgets.IntSlider(value=size, min=8, max=64, step=8,
                                          description="input size", continuous_update=False,
                                          style={"description_width": "initial"},
                                          layout=widgets.Layout(width="230px")),
                "window": widgets.Dropdown(options=SPEED_WINDOWS, value=(2, 2),
                                           description="window", layout=widgets.Layout(width="250px")),
                "mode": _toggle(MODES)}

    def draw(explorer):
        L, (pool, stride) = explorer.value("size"), explorer.value("window")
        rows = compare([(1, channels, L, L, pool, stride)], modes=(explorer.value("mode"),),
                       budget=budget, runs=1)
        explorer.formula.value = speed_story(rows[-1])
        return FigurePicture(plot_timings(rows))

    return Explorer(controls, draw)


def speed_story(row):
    """HTML for one forward + backward row of ``benchmark.compare``: how many windows, the
    loop's time per window and how many times faster the others are."""
    from .benchmark import format_time
    N, C, H, W, pool, stride = row["config"]
    windows = N * C * ((H - pool) // stride + 1) * ((W - pool) // stride + 1)
    faster = ", ".join(f"{name} <b>{row['loop'] / row[name]:.0f}&times;</b>"
                       for name in ("im2col", "pooling_lib", "torch") if row[name])
    return (f"Input {N}&times;{C}&times;{H}&times;{W}, {pool}&times;{pool} windows at stride "
            f"{stride}: {windows} windows. Forward + backward, the loop spends "
            f"{format_time(row['loop'] / windows)} per window. Faster than the loop: {faster}.")


# --- from average to max (notebook 12) ------------------------------------------------------------

NORMS = [("1", 1.0), ("1.5", 1.5), ("2", 2.0), ("3", 3.0), ("4", 4.0), ("6", 6.0), ("8", 8.0),
         ("16", 16.0), ("32", 32.0), ("64", 64.0), ("\u221e", float("inf"))]


def power_mean(x, p, region):
    """The power mean of every ``region`` x ``region`` window of x (H, W) at stride ``region``:
    ``(mean of x ** p) ** (1 / p)``, the Lp pooling of pooling_lib divided by the window's
    size to the power ``1 / p`` (``p = inf``: the largest |x|)."""
    from ..lp import lp_pool2d
    lp = lp_pool2d(x, p, region)
    return lp if np.isinf(p) else lp / (region * region) ** (1 / p)


def lp_explorer(size=6, region=2, p=2.0):
    """A slider on ``p`` over a small input of digits 0..9: average pooling, the power mean at
    ``p`` and max pooling side by side (region = stride), and the numbers of the first window."""
    from .plotting import show_grids
    controls = {"p": widgets.SelectionSlider(options=NORMS, value=p, description="p",
                                             continuous_update=True,
                                             layout=widgets.Layout(width="320px")),
                "region": _slider("region", region, 2, 3)}
    x = small_input(size)

    def draw(explorer):
        p, F = explorer.value("p"), explorer.value("region")
        outs = [power_mean(x, q, F) for q in (1.0, p, float("inf"))]
        window = x[:F, :F].ravel()
        label = "\u221e" if np.isinf(p) else format_decimal(p)
        explorer.formula.value = (
            f"Window (0, 0) holds {', '.join(map(str, window))}: average "
            f"<b>{format_decimal(outs[0][0, 0])}</b>, power mean at p = {label} "
            f"<b>{format_decimal(outs[1][0, 0])}</b>, max <b>{format_decimal(outs[2][0, 0])}</b>. "
            "The power mean (mean of x<sup>p</sup>)<sup>1/p</sup> climbs from the average at p = 1 "
            "to the max as p grows.")
        board = show_grids([x, *outs], [f"input {size}\u00d7{size}", "average (p = 1)",
                                        f"power mean, p = {label}", "max (p = \u221e)"],
                           scale=(x.min(), x.max()))  # one scale: the colours compare
        Outlines(board.ax).show([board.grids[0].box(0, 0, F, F)] + [g.box(0, 0) for g in board.grids[1:]])
        return board

    return Explorer(controls, draw)


# --- invariance and aliasing (notebook 13) -------------------------------------------------------

SHIFT_POOLINGS = [("max pool", "max"), ("max-blur pool", "blur")]
SHIFT_NAMES = {"max": "max pooling", "blur": "max-blur pooling"}
MARGIN = 4   # blank pixels around a digit: its edge map and pools lose nothing in moves of 2


def on_sheet(images, margin=MARGIN):
    """Digits (..., H, W) pasted in the middle of a blank sheet ``margin`` pixels wider on every
    side (8 x 8 -> 16 x 16), so that small moves push no ink off the edge."""
    images = np.asarray(images, dtype=float)
    return np.pad(images, [(0, 0)] * (images.ndim - 2) + [(margin, margin)] * 2)


def edges(images):
    """A feature map like those of a CNN's first layer: ReLU of the 3 x 3 "edge" kernel of
    :func:`downsample_kernel` (+1 left, −1 right: it answers where ink ends on the right), zero
    padding 1, stride 1. (..., H, W) -> (..., H, W)."""
    from ..cnn.nn import correlate
    images = np.asarray(images, dtype=float)
    flat = images.reshape(-1, 1, *images.shape[-2:])
    kernel = downsample_kernel("edge", 3)[None, None]
    return np.maximum(correlate(flat, kernel, 1), 0).reshape(images.shape)


def pool_map(maps, pooling):
    """``maps`` (..., H, W) made half as high and wide: "max" (2 x 2 max pooling at stride 2) or
    "blur" (``nn.MaxBlurPool``: the max of every 2 x 2 window at stride 1, a [1, 2, 1] / 4 blur
    along each axis, then every other cell)."""
    from ..cnn.nn import MaxBlurPool
    from ..fast import max_pool2d
    if pooling not in SHIFT_NAMES:
        raise ValueError(f"pooling must be 'max' or 'blur', got {pooling!r}")
    maps = np.asarray(maps, dtype=float)
    return max_pool2d(maps, 2) if pooling == "max" else MaxBlurPool().forward(maps)


def whole_cells(pixels):
    """The whole pooled cells (2 pixels each) in a move of ``pixels``: an odd move leaves half a
    cell over, which no pooled map can move by (1 -> 0, 3 -> 1, −1 -> 0, −3 -> −1)."""
    return int(pixels / 2)


def moved_pooling(images, dy, dx, pooling):
    """``(moved, still)``: the pooled edge maps of ``images`` (..., H, W) moved down by ``dy``
    and right by ``dx`` pixels, and the pooled edge maps of the unmoved images moved by the
    whole pooled cells of that move. A pooling that moved along with its input would make them
    equal."""
    from ..cnn.data import shift
    moved = pool_map(edges(shift(images, dy, dx)), pooling)
    still = shift(pool_map(edges(images), pooling), whole_cells(dy), whole_cells(dx))
    return moved, still


def pooled_change(moved, still):
    """How much pooled maps ``moved`` differ from ``still`` (one shape, numbers >= 0):
    ``(differ, counted, change)``: how many numbers differ, how many are not 0 in either, and the
    relative change ‖moved − still‖ / ‖still‖ (0 when ``still`` is all 0)."""
    moved, still = np.asarray(moved, dtype=float), np.asarray(still, dtype=float)
    counted = (moved > 0) | (still > 0)
    differ = int((counted & ~np.isclose(moved, still)).sum())
    size = np.linalg.norm(still)
    return differ, int(counted.sum()), float(np.linalg.norm(moved - still) / size) if size else 0.0


def shift_table(images, moves, poolings=("max", "blur")):
    """A text table: for every ``(dy, dx)`` of ``moves``, the share of pooled numbers (not 0) of
    ``images`` (..., H, W) that differ from the unmoved images' pooled maps moved by whole cells,
    and the relative change (:func:`moved_pooling`, :func:`pooled_change`), per pooling."""
    first = max(len(move_words(dy, dx)) for dy, dx in moves) + 2
    lines = [f"{'move':{first}}" + "".join(f"{'differ: ' + p:>14}" for p in poolings)
             + "".join(f"{'change: ' + p:>14}" for p in poolings)]
    for dy, dx in moves:
        found = [pooled_change(*moved_pooling(images, dy, dx, p)) for p in poolings]
        lines.append(f"{move_words(dy, dx):{first}}" + "".join(f"{d / c:>14.0%}" for d, c, _ in found)
                     + "".join(f"{change:>14.0%}" for _, _, change in found))
    return "\n".join(lines)


def show_aliasing(signals, poolings):
    """A Figure with one panel per signal of ``signals`` (``{title: (L,) array}``): the signal as
    grey bars, and each pooling of ``poolings`` (``{name: function (L,) -> (L // 2,)}``) as a
    step over the 2 cells of each output's window, in its own colour and dash."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from .plotting import OKABE_ITO
    figure = Figure(figsize=(8, 0.4 + 1.6 * len(signals)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(signals), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (title, signal) in zip(axes, signals.items()):
        signal = np.asarray(signal, dtype=float)
        ax.bar(np.arange(len(signal)) + 0.5, signal, width=0.85, color="#d0d0d0", label="signal")
        for k, (name, pool) in enumerate(poolings.items()):
            out = np.asarray(pool(signal), dtype=float)
            ax.stairs(out, 2 * np.arange(len(out) + 1), baseline=None, color=OKABE_ITO[k],
                      linewidth=2.5, linestyle=("-", "--", ":")[k % 3], label=name)
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylim(0, 1.15 * max(signal.max(), 1e-9))
        ax.set_xticks(np.arange(0, len(signal) + 1, 2))
        ax.tick_params(labelsize=10)
        ax.grid(axis="x", alpha=0.4)
    axes[0].legend(fontsize=10, loc="lower left", bbox_to_anchor=(1.01, 0), frameon=False)
    axes[-1].set_xlabel("place (grid lines: the windows of stride 2)", fontsize=10)
    figure.tight_layout()
    return figure


class ShiftPicture(Figure):
    """Five panels in a row: a moved digit, its edge map (lines: the fixed 2 x 2 windows of the
    pooling), its pooled map, the unmoved digit's pooled map moved by whole cells, and their
    difference. Every map after the digit shares one colour scale, the difference its own."""

    def __init__(self, shape):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        panel, gap, top = 1.75, 0.2, 0.5                      # inches
        width, height = 5 * panel + 6 * gap, panel + top + 0.1
        super().__init__(figsize=(width, height), dpi=100)
        FigureCanvasAgg(self)
        self.shapes = (tuple(shape),)
        h, w = shape
        self.panels, self.shown = [], []
        cmaps = ["gray_r", "viridis", "viridis", "viridis", "PuOr"]
        for k, cmap in enumerate(cmaps):
            ax = self.add_axes(((gap + k * (panel + gap)) / width, 0.1 / height,
                                panel / width, panel / height))
            ax.set_xticks([])
            ax.set_yticks([])
            side = (h, w) if k < 2 else (h // 2, w // 2)
            self.shown.append(ax.imshow(np.zeros(side), cmap=cmap, interpolation="nearest",
                                        extent=(0, side[1], side[0], 0)))
            self.panels.append(ax)
        for line in range(2, max(h, w), 2):                   # the pooling's windows, fixed
            self.panels[1].axhline(line, color="white", linewidth=0.6, alpha=0.5)
            self.panels[1].axvline(line, color="white", linewidth=0.6, alpha=0.5)
        self.titles = [self.text((gap + panel / 2 + k * (panel + gap)) / width,
                                 (height - 0.05) / height, "", ha="center", va="top",
                                 fontsize=10, linespacing=1.15) for k in range(5)]

    def png(self, compress_level=1):
        """The picture as PNG bytes."""
        from .plotting import figure_png
        return figure_png(self, compress_level)


def move_words(dy, dx, unit="pixel"):
    """A move in words: ``"1 pixel down, 2 pixels left"``, ``"half a cell right"``, or
    ``"not moved"`` for (0, 0)."""
    def amount(d):
        d = abs(d)
        return f"half a {unit}" if d == 0.5 else counted(int(d) if d == int(d) else d, unit)
    parts = [f"{amount(d)} {names[d < 0]}"
             for d, names in ((dy, ("down", "up")), (dx, ("right", "left"))) if d]
    return ", ".join(parts) or "not moved"


def move_arrows(dy, dx):
    """A move as arrows: ``"↓1 ←2"``; ``"not moved"`` for (0, 0)."""
    parts = [f"{arrows[d < 0]}{abs(d)}" for d, arrows in ((dy, "↓↑"), (dx, "→←")) if d]
    return " ".join(parts) or "not moved"


def draw_shift(image, dy, dx, pooling, picture=None):
    """A :class:`ShiftPicture` of ``image`` (H, W) moved by ``(dy, dx)`` pixels and pooled the
    ``pooling`` way ("max" or "blur"); reuses ``picture`` when the shape still fits."""
    from ..cnn.data import shift
    image = np.asarray(image, dtype=float)
    if not (isinstance(picture, ShiftPicture) and picture.shapes == (image.shape,)):
        picture = ShiftPicture(image.shape)
    moved_image = shift(image, dy, dx)
    moved, still = moved_pooling(image, dy, dx, pooling)
    top = float(edges(image).max()) or 1.0
    maps = [moved_image, edges(moved_image), moved, still, moved - still]
    scales = [(0, image.max() or 1.0), (0, top), (0, top), (0, top), (-top / 2, top / 2)]
    for shown, values, scale in zip(picture.shown, maps, scales):
        shown.set_data(values)
        shown.set_clim(*scale)
    wy, wx = whole_cells(dy), whole_cells(dx)
    then = f"then moved {move_arrows(wy, wx)} cell{'s' if max(abs(wy), abs(wx)) > 1 else ''}"
    titles = [f"the digit\n{'moved ' if dy or dx else ''}{move_arrows(dy, dx)}",
              "its edge map\n(lines: 2×2 windows)", f"{SHIFT_NAMES[pooling]}\nof the edge map",
              f"the unmoved digit, pooled,\n{then}" if wy or wx else "the unmoved digit,\npooled",
              "moved minus unmoved\n(white: the same)"]
    for title, text in zip(picture.titles, titles):
        title.set_text(text)
    return picture


def shift_story(image, dy, dx, pooling):
    """HTML under the shift explorer: how far the move goes in pooled cells, and how many
    pooled numbers differ from the unmoved digit's pooled map moved by whole cells."""
    differ, count, change = pooled_change(*moved_pooling(image, dy, dx, pooling))
    cells = move_words(whole_cells(dy), whole_cells(dx), "cell")
    against = "" if cells == "not moved" else f" (moved {cells})"
    how_far = ("Not moved" if not (dy or dx) else f"Moved {move_words(dy, dx)}: at 2 pixels a "
               f"pooled cell, that is {move_words(dy / 2, dx / 2, 'cell')}")
    text = (f"{how_far}. Against the unmoved digit's pooled map{against}: <b>{differ} of the "
            f"{count}</b> pooled numbers that are not 0 differ; relative change "
            f"‖moved − unmoved‖ / ‖unmoved‖ = <b>{change:.0%}</b>.")
    if dy % 2 or dx % 2:
        text += " An odd move leaves half a cell over: no pooled map can move by that."
    return text


def shift_explorer(images=None, index=1, down=0, right=1, pooling="max"):
    """Move a digit by up to 2 pixels each way, on a blank sheet (:func:`on_sheet`), and watch its
    pooled edge map: with max pooling or with max-blur pooling, against the unmoved digit's pooled
    map moved by whole cells. ``images`` (N, H, W) or (N, 1, H, W): default the test digits of
    ``data.load_digits_split()``; it starts on digit ``index`` moved by (``down``, ``right``)."""
    if images is None:
        from ..cnn.data import load_digits_split
        images = load_digits_split()[2]
    images = np.asarray(images, dtype=float)
    sheets = on_sheet(images.reshape(len(images), *images.shape[-2:]))
    controls = {"digit": _slider("digit", index, 0, len(sheets) - 1),
                "down": _slider("move down", down, -2, 2),
                "right": _slider("move right", right, -2, 2),
                "pooling": _toggle(SHIFT_POOLINGS, pooling)}

    def draw(explorer):
        k, dy, dx, how = (explorer.value(name) for name in ("digit", "down", "right", "pooling"))
        explorer.formula.value = shift_story(sheets[k], dy, dx, how)
        return draw_shift(sheets[k], dy, dx, how, explorer.picture)

    return Explorer(controls, draw)


# --- receptive fields (notebook 14) --------------------------------------------------------------

def _stacks():
    from ..receptive_field import conv, pool
    return {"three 3\u00d73 convs": (conv(3), conv(3), conv(3)),
            "conv 3\u00d73 \u2192 max pool 2\u00d72 \u2192 conv 3\u00d73 \u2192 max pool 2\u00d72":
                (conv(3), pool(2), conv(3), pool(2)),
            "conv 3\u00d73 stride 2 \u2192 two 3\u00d73 convs": (conv(3, 2), conv(3), conv(3)),
            "3\u00d73 convs with dilation 1, 2, 4": (conv(3), conv(3, dilation=2), conv(3, dilation=4)),
            "notebook 10: conv 3\u00d73 padding 1 \u2192 max pool 2\u00d72": (conv(3, padding=1), pool(2))}


STACKS = _stacks()   # the explorer's stacks of layers, by name (pooling_lib.receptive_field steps)
FIELD_COLOURS = ("#eeeeee", "#56B4E9")  # a cell the chosen output does not see / sees (Okabe-Ito sky blue)
FIELD_CELL_INCHES = 0.2   # no numbers in the cells: small cells, smaller still for many layers
FIELD_INCHES = 8.6        # the widest a row of layers may be (a slide is 10.24 inches wide)


def field_terms(steps):
    """HTML of the recurrence with the numbers put in, ``1 + 2·1 + 1·1 + 2·2 + 1·2 = <b>10</b>``:
    each step adds (kernel − 1)·dilation·jump input cells."""
    from ..receptive_field import field_working
    working, size = field_working(steps).rsplit(" = ", 1)
    return f"{working} = <b>{size}</b>"


def field_story(steps, cell, region, field):
    """HTML for the explorer: the input region that output ``cell`` sees, and the recurrence."""
    dilated = any(s.dilation > 1 for s in steps)
    (r0, r1), (c0, c1) = region
    text = (f"Output cell {tuple(cell)} sees input rows {r0}&ndash;{r1} and columns {c0}&ndash;{c1}: "
            f"a {region.height} &times; {region.width} field")
    if (region.height, region.width) != (field.size, field.size):
        text += f", cut by the edge (away from the edges: {field.size} &times; {field.size})"
    adds = "(k &minus; 1)&middot;dilation&middot;jump" if dilated else "(k &minus; 1)&middot;jump"
    return (f"{text}.<br>Each layer adds {adds}: {field_terms(steps)}; one step in the last "
            f"layer is a jump of {field.jump} input {'cell' if field.jump == 1 else 'cells'}.")


def field_cell_inches(shapes, titles, pads, fontsize):
    """The side of a cell (inches) that puts grids of ``shapes`` (with ``pads`` cells of padding
    on each side) and their ``titles`` in one row at most :data:`FIELD_INCHES` wide."""
    from .plotting import text_width
    cell = FIELD_CELL_INCHES
    for _ in range(20):  # the titles keep their size, so shrink the cells step by step
        blocks = [max((w + 2 * p) * cell, text_width(title, fontsize) + 0.2 * cell)
                  for (_, w), p, title in zip(shapes, pads, titles)]
        width = sum(blocks) + (len(blocks) + 1) * cell
        if width <= FIELD_INCHES:
            break
        cell *= 0.95
    return round(cell, 3)


def draw_field(steps, cell, input_shape, picture=None):
    """A Board of every layer of ``steps`` over an input of ``input_shape``, in one row: the
    cells that output ``cell`` of the last layer depends on in sky blue, their bounds outlined,
    padding hatched. Cells are :data:`FIELD_CELL_INCHES` wide, or less so that the row fits
    :data:`FIELD_INCHES`. Reuses ``picture`` when it shows the same stack and input."""
    from matplotlib.colors import ListedColormap
    from .plotting import Board, cell_fontsize
    from ..receptive_field import footprints, layer_shapes, receptive_fields
    shapes = layer_shapes(steps, input_shape)
    masks, regions = footprints(steps, cell, input_shape), receptive_fields(steps, cell, input_shape)
    layout = (tuple(steps), tuple(input_shape))
    if getattr(picture, "field_layout", None) != layout:
        titles = ["input"] + [f"{k}: {s.name}" for k, s in enumerate(steps, 1)]
        pads = [s.padding for s in steps] + [0]  # a layer's padding is that of the step reading it
        fontsize = cell_fontsize(FIELD_CELL_INCHES)
        picture = Board(field_cell_inches(shapes, titles, pads, fontsize), fontsize=fontsize)
        for shape, title, p in zip(shapes, titles, pads):
            picture.grid(shape, (p, p, p, p), title, fmt=lambda v: "", cmap=ListedColormap(FIELD_COLOURS))
        picture.outlines, picture.field_layout = Outlines(picture.ax, linewidth=2.5), layout
        title_cells = 1.3 * fontsize / 72 / picture.cell_inches + 0.25  # a title's height and gap
        picture.fit(margin=max(0.3, title_cells - 1 + 0.1))             # (one cell is there already)
    for grid, (rows, cols) in zip(picture.grids, masks):
        grid.show(np.outer(rows, cols), 0, 1)
    picture.outlines.show([grid.box(r.rows[0], r.cols[0], r.height, r.width)
                           for grid, r in zip(picture.grids, regions)])
    return picture


def receptive_field_explorer(stack=None, size=16, cell=(1, 1)):
    """Pick a stack of convolutions and poolings, an input size and an output cell of the last
    layer: every layer is drawn, with the cells that output cell depends on in blue; the line
    below gives the input region and the recurrence 1 + Σ (k − 1)·jump."""
    from ..receptive_field import field_sizes, layer_shapes, receptive_field
    names = list(STACKS)
    controls = {"stack": widgets.Dropdown(options=names, value=stack or names[1], description="stack",
                                          style={"description_width": "initial"},
                                          layout=widgets.Layout(width="500px")),
                "size": _slider("input size", size, 4, 20),
                "row": _slider("output row", cell[0], 0, 8),
                "col": _slider("output column", cell[1], 0, 8)}

    def draw(explorer):
        steps, L = STACKS[explorer.value("stack")], explorer.value("size")
        out = layer_shapes(steps, (L, L))[-1]
        chosen = (explorer.set_count("row", out[0]), explorer.set_count("col", out[1]))
        picture = draw_field(steps, chosen, (L, L), explorer.picture)
        explorer.formula.value = field_story(steps, chosen, receptive_field(steps, chosen, (L, L)),
                                             field_sizes(steps)[-1])
        return picture

    return Explorer(controls, draw)


# --- what replaces pooling (notebook 15) ---------------------------------------------------------

WAYS = [("max pool", "max"), ("average pool", "avg"), ("conv: uniform kernel", "uniform"),
        ("conv: edge kernel", "edge"), ("conv: random kernel", "random")]


def downsample_kernel(way, size, seed=SEED):
    """The ``size`` x ``size`` kernel of a convolution ``way``: "uniform" 1/size² everywhere
    (average pooling's weights), "edge" +1 down the left column and −1 down the right (it
    answers to a dark-to-bright step), "random" seeded normal numbers to one decimal (what an
    untrained convolution holds)."""
    if way == "uniform":
        return np.full((size, size), 1 / size ** 2)
    if way == "edge":
        kernel = np.zeros((size, size))
        kernel[:, 0], kernel[:, -1] = 1, -1
        return kernel
    if way == "random":
        return np.round(np.random.default_rng(seed).normal(0, 0.5, (size, size)), 1)
    raise ValueError(f"way must be 'uniform', 'edge' or 'random', got {way!r}")


def downsample(x, way, size, stride):
    """``x`` (H, W) made smaller: "max" or "avg" pooling, or a convolution with
    :func:`downsample_kernel` at ``stride`` (no padding). -> (floor((H − size) / stride) + 1, ...)."""
    from ..cnn.nn import correlate
    from ..fast import avg_pool2d, max_pool2d
    if way in ("max", "avg"):
        return (max_pool2d if way == "max" else avg_pool2d)(np.asarray(x, float), size, stride)
    kernel = downsample_kernel(way, size)
    return correlate(np.asarray(x, float)[None, None], kernel[None, None], 0)[0, 0, ::stride, ::stride]


def signed(value, brackets=True):
    """A number as the formula line writes it: a true minus sign, in brackets after a product."""
    text = format_decimal(abs(value))
    if value >= 0:
        return text
    return f"({MINUS}{text})" if brackets else MINUS + text


def downsample_explorer(way="avg", size=2, stride=2, channels=16):
    """Halve a small input five ways, with the region (kernel) size and the stride on sliders:
    max and average pooling, and a convolution at the same stride with a uniform, an edge or a
    random kernel. The line below says how out[0, 0] is made, whether the result equals average
    pooling, and how many parameters the step would have as a layer of ``channels`` maps."""
    from .plotting import show_grids
    controls = {"way": _toggle(WAYS, way), "size": _slider("size", size, 2, 3),
                "stride": _slider("stride", stride, 1, 3)}
    x = small_input(6)

    def draw(explorer):
        way, k, s = explorer.value("way"), explorer.value("size"), explorer.value("stride")
        out = downsample(x, way, k, s)
        cells = x[:k, :k].ravel()
        grids, titles = [x], [f"input {len(x)}\u00d7{len(x)}"]
        if way == "max":
            how = f"max({', '.join(map(str, cells))})"
        else:
            kernel = np.full((k, k), 1 / k ** 2) if way == "avg" else downsample_kernel(way, k)
            grids.append(kernel)
            titles.append("weights (fixed)" if way == "avg" else "kernel")
            how = " + ".join(f"{v}\u00b7{signed(w)}" for v, w in zip(cells, kernel.ravel()))
        grids.append(out)
        titles.append(f"output {out.shape[0]}\u00d7{out.shape[1]}")
        board = show_grids(grids, titles)
        Outlines(board.ax).show([board.grids[0].box(0, 0, k, k), board.grids[-1].box(0, 0)])
        same = np.allclose(out, downsample(x, "avg", k, s))
        if way in ("max", "avg"):
            cost = f"As a layer it has <b>no parameters</b>: the {k}\u00d7{k} rule is fixed."
        else:
            learned = channels * channels * k * k + channels
            cost = (f"As a layer from {channels} maps to {channels} it would learn "
                    f"{channels}\u00b7{channels}\u00b7{k}\u00b7{k} + {channels} = "
                    f"<b>{learned:,} parameters</b>.")
        equal = (" <b>The same numbers as average pooling.</b>" if same and way != "avg" else "")
        explorer.formula.value = (
            f"out[0, 0] = {how} = <b>{signed(out[0, 0], brackets=False)}</b>; output size "
            f"floor(({len(x)} \u2212 {k}) / {s}) + 1 = {out.shape[0]}. {cost}{equal}")
        return board

    return Explorer(controls, draw)


# --- the CNN's digits (notebook 10) --------------------------------------------------------------

DIGIT_RIGHT, DIGIT_WRONG, DIGIT_OTHER = "#0072B2", "#D55E00", "#BBBBBB"  # Okabe-Ito, grey


def feature_mosaic(maps, columns=4, repeat=1):
    """Feature maps ``(C, h, w)`` as one image: ``columns`` maps per row, one blank (NaN) line
    between them, every value repeated ``repeat`` times along both axes (so that a pooled map can
    be drawn at the size of the map it came from)."""
    maps = np.repeat(np.repeat(np.asarray(maps, dtype=float), repeat, -2), repeat, -1)
    count, h, w = maps.shape
    rows = -(-count // columns)
    mosaic = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for c, plane in enumerate(maps):
        r, k = divmod(c, columns)
        mosaic[r * (h + 1):r * (h + 1) + h, k * (w + 1):k * (w + 1) + w] = plane
    return mosaic


def pooling_layer(network):
    """Index of the first MaxPool or AvgPool in ``network.layers``; a ValueError if none."""
    for k, layer in enumerate(network.layers):
        if isinstance(layer, (MaxPool, AvgPool)) and k > 0:
            return k
    raise ValueError(f"the network has no pooling layer after its first layer: {network!r}")


class DigitPicture(Figure):
    """A digit, the feature maps before and after pooling (as mosaics, the pooled maps drawn
    at the size of the maps they came from) and the ten predicted probabilities. Texts that do
    not change are glyph outlines (``plotting.Labels``): drawing them is fast."""

    def __init__(self, image_shape, mosaic_shape, classes):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from .plotting import Labels
        width, height = 10.6, 2.8
        super().__init__(figsize=(width, height), dpi=100)
        FigureCanvasAgg(self)
        self.shapes = (image_shape, mosaic_shape, classes)
        panels = [(0.3, 1.9), (2.75, 2.3), (5.55, 2.3), (8.3, 1.95)]  # (left, width), inches
        self.panels = [self.add_axes((left / width, 0.12 / height, size / width, 2.3 / height))
                      for left, size in panels]
        digit_ax, before_ax, after_ax, bars_ax = self.panels
        viridis = matplotlib.colormaps["viridis"].with_extremes(bad="white")
        self.digit = digit_ax.imshow(np.zeros(image_shape), cmap="gray_r", vmin=0, vmax=1,
                                     interpolation="nearest")
        self.before, self.after = (ax.imshow(np.zeros(mosaic_shape), cmap=viridis,
                                             interpolation="nearest")
                                   for ax in (before_ax, after_ax))
        digit_ax.set_xticks([])
        digit_ax.set_yticks([])
        for ax in (before_ax, after_ax, bars_ax):
            ax.set_axis_off()
        bars_ax.set_xlim(-0.6, classes + 1.1)
        bars_ax.set_ylim(-0.13, 1.02)
        for level in (0.5, 1.0):
            bars_ax.plot([-0.6, classes - 0.4], [level, level], color="#dddddd", linewidth=0.8,
                         zorder=0)
        bars_ax.plot([-0.6, classes - 0.4], [0, 0], color="black", linewidth=0.8)
        self.bars = bars_ax.bar(range(classes), np.zeros(classes), color=DIGIT_OTHER, width=0.7)
        Labels(bars_ax, [(k, -0.07) for k in range(classes)], 9).set(map(str, range(classes)))
        levels = Labels(bars_ax, [(classes + 0.45, 0.5), (classes + 0.45, 1.0)], 9, "#888888")
        levels.set(["50%", "100%"])
        levels.collection.set_clip_on(False)
        self.titles = [self.text((left + size / 2) / width, 2.6 / height, "", ha="center",
                                 va="center", fontsize=10) for left, size in panels]

    def png(self, compress_level=1):
        """The picture as PNG bytes."""
        from .plotting import figure_png
        return figure_png(self, compress_level)


def pooling_words(network):
    """The size and kind of the network's pooling, in words: ``("2\u00d72", "max")``."""
    from ..layers import MaxPool
    layer = network.layers[pooling_layer(network)]
    size = layer.settings["pool_size"]
    rows, cols = (size, size) if np.ndim(size) == 0 else size
    return f"{rows}\u00d7{cols}", "max" if isinstance(layer, MaxPool) else "average"


def digit_figures(network, image):
    """What the network makes of one digit ``image`` (1, H, W): the feature maps going into its
    pooling layer (C, H, W), coming out of it (C, h, w), and the class probabilities."""
    from ..cnn.nn import activations
    outputs = [output[0] for _, output in activations(network, np.asarray(image)[None])]
    k = pooling_layer(network)
    logits = outputs[-1] - outputs[-1].max()
    return outputs[k - 1], outputs[k], np.exp(logits) / np.exp(logits).sum()


def draw_digit(network, image, label=None, picture=None):
    """A :class:`DigitPicture` of ``network`` reading one digit ``image`` (1, H, W) whose true
    class is ``label`` (optional). Reuses ``picture`` when the shapes still fit."""
    before, after, probabilities = digit_figures(network, image)
    repeat = max(before.shape[-1] // after.shape[-1], 1)
    mosaics = feature_mosaic(before), feature_mosaic(after, repeat=repeat)
    shapes = (np.shape(image)[-2:], mosaics[0].shape, len(probabilities))
    if not (isinstance(picture, DigitPicture) and picture.shapes == shapes):
        picture = DigitPicture(*shapes)
    picture.digit.set_data(np.asarray(image)[0])
    top = float(np.nanmax(mosaics[0])) or 1.0  # one colour scale for both: pooling keeps maxima
    for shown, mosaic in zip((picture.before, picture.after), mosaics):
        shown.set_data(mosaic)
        shown.set_clim(0, top)
    guess = int(np.argmax(probabilities))
    colour = DIGIT_RIGHT if label is None or guess == label else DIGIT_WRONG
    for k, (bar, p) in enumerate(zip(picture.bars, probabilities)):
        bar.set_height(p)
        bar.set_color(colour if k == guess else DIGIT_OTHER)
    size, mode = pooling_words(network)
    count, (h, w), (ph, pw) = len(before), before.shape[1:], after.shape[1:]
    verdict = "" if label is None else (" \u2713" if guess == label else f" \u2717 (it is {label})")
    titles = ["the digit" if label is None else f"the digit (labelled {label})",
              f"before pooling: {count} maps {h}\u00d7{w}",
              f"after {size} {mode} pooling: {count} maps {ph}\u00d7{pw}",
              f"the network says {guess}{verdict}"]
    for title, text in zip(picture.titles, titles):
        title.set_text(text)
    return picture


def digit_story(network, image, moved, label=None, shift=(0, 0)):
    """HTML under the digit explorer: the prediction, the numbers before and after pooling and,
    for a digit ``moved`` by ``shift`` pixels, how many pooled numbers kept their value."""
    before, after, probabilities = digit_figures(network, moved)
    guess = int(np.argmax(probabilities))
    size, mode = pooling_words(network)
    value = "the largest value" if mode == "max" else "the average"
    text = (f"The network says <b>{guess}</b> with probability {probabilities[guess]:.0%}"
            + ("" if label is None else " (correct)" if guess == label else
               f", but the digit is labelled <b>{label}</b>") + ". "
            f"Pooling turns {before.size:,} numbers into {after.size:,}: each pooled number, drawn "
            f"as a {size} block, is {value} of the {size} window at the same place before pooling.")
    dy, dx = shift
    if dy or dx:
        still = digit_figures(network, image)[1]
        counted = (after > 0) | (still > 0)
        same = int((np.isclose(after, still) & counted).sum())
        where = " and ".join(f"{abs(d)} {name[d < 0]}" for d, name in
                             ((dy, ("down", "up")), (dx, ("right", "left"))) if d)
        text += (f"<br>Moved {where}: {same} of the {int(counted.sum())} pooled numbers that are "
                 "not 0 kept their value.")
    return text


def digit_explorer(network=None, images=None, labels=None, index=0):
    """Pick a digit (and move it by a pixel or two): see it, the network's feature maps before
    and after its pooling layer, and its prediction.

    ``network``: a CNN with a pooling layer (default: ``nn.make_cnn("max")`` trained with
    ``nn.train``'s defaults, which takes about two seconds); ``images`` (N, 1, H, W) and
    ``labels`` (N,): default the test digits of ``data.load_digits_split()``.
    """
    from ..cnn.data import load_digits_split, shift
    from ..cnn.nn import make_cnn, train
    if network is None or images is None:
        x_train, y_train, x_test, y_test = load_digits_split()
        if network is None:
            network = make_cnn("max")
            train(network, x_train, y_train)
        if images is None:
            images, labels = x_test, y_test
    pooling_layer(network)  # refuse a network without pooling now, not at the first redraw
    images = np.asarray(images, dtype=float)
    controls = {"digit": _slider("digit", index, 0, len(images) - 1),
                "down": _slider("move down", 0, -2, 2),
                "right": _slider("move right", 0, -2, 2)}

    def draw(explorer):
        k, dy, dx = (explorer.value(name) for name in ("digit", "down", "right"))
        label = None if labels is None else int(labels[k])
        moved = shift(images[k], dy, dx)
        explorer.formula.value = digit_story(network, images[k], moved, label, (dy, dx))
        return draw_digit(network, moved, label, explorer.picture)

    explorer = Explorer(controls, draw)
    explorer.network = network
    return explorer


# --- timing --------------------------------------------------------------------------------------

def _change(control):
    """Move ``control`` to another value: next option, other state, or one step up (wrapping)."""
    if isinstance(control, widgets.Checkbox):
        control.value = not control.value
    elif hasattr(control, "options"):
        control.index = (control.index + 1) % len(control.options)
    else:
        control.value = control.min if control.value >= control.max else control.value + 1


def measure_redraw(explorer, changes=30):
    """Median seconds from a control change to a finished PNG, over ``changes`` changes made
    to the controls in turn (refused settings and controls that could not move are not counted)."""
    controls = list(explorer.controls.values())
    times = []
    for k in range(changes):
        control = controls[k % len(controls)]
        before = control.value
        start = time.perf_counter()
        _change(control)
        elapsed = time.perf_counter() - start
        if control.value != before and not explorer.message.value:
            times.append(elapsed)
    return statistics.median(times)


# Every explorer of the series: the one list that the figures, the tests and the timing below
# read. All but the last two redraw a small picture from their sliders alone (in the order the
# notebooks meet them); the last two do more: speed_explorer times code as it draws,
# digit_explorer trains notebook 10's network first.
EXPLORERS = (pool_explorer, max_vs_avg_explorer, forward_stepper, backward_explorer,
             padding_explorer, lp_explorer, shift_explorer, receptive_field_explorer,
             downsample_explorer, speed_explorer, digit_explorer)
SLIDER_EXPLORERS = EXPLORERS[:-2]

if __name__ == "__main__":
    for make in SLIDER_EXPLORERS:
        print(f"{make.__name__:24} median redraw {1000 * measure_redraw(make()):5.1f} ms")
