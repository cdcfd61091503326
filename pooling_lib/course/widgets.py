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


# Every explorer of the series, in the order the notebooks meet them: the one list that the
# figures, the tests and the timing below read. The first six redraw a small picture from
# their sliders alone; speed_explorer times code as it draws, digit_explorer trains notebook
# 10's network first.
EXPLORERS = (pool_explorer, max_vs_avg_explorer, forward_stepper, backward_explorer,
             padding_explorer, lp_explorer, speed_explorer, digit_explorer)
SLIDER_EXPLORERS = EXPLORERS[:6]

if __name__ == "__main__":
    for make in SLIDER_EXPLORERS:
        print(f"{make.__name__:22} median redraw {1000 * measure_redraw(make()):5.1f} ms")
