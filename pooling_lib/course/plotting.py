"""Pictures of pooling: number grids, windows, output cells and the flow of gradients.

Everything is drawn on a :class:`Board`, a matplotlib Figure with one Axes measured in
cells (x to the right, y downwards), so grids, outlines and arrows share one coordinate
system. A picture is built once for a layout (the shapes of its grids) and then updated in
place by ``draw_*`` functions, which only call ``set_*`` on existing artists; that keeps a
widget redraw fast. ``Board.png()`` encodes the current state.

Shapes: a grid shows a 2-D array ``(rows, cols)``. Window cells are given as boxes
``(row, col, height, width)`` in the grid's own input coordinates, where rows and columns
outside ``[0, H)`` and ``[0, W)`` are padding.
"""
from fractions import Fraction
from functools import lru_cache
from io import BytesIO
from typing import NamedTuple

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection, PathCollection
from matplotlib.colors import ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

import pooling_lib as pl
from pooling_lib.geometry import plan

DPI = 100
CELL_INCHES = 0.42   # side of one grid cell
MIN_FONT = 10.0      # points: the smallest text of a picture (readable on a projector)
LABEL_ROOM = 0.6     # a number may take this share of its cell's width (inside a thick window outline)
TITLE_ROOM = 1.0     # cells above a grid for its title
GAP = 1.0            # cells between two grids
NO_PAD = (0, 0, 0, 0)

# Okabe & Ito's colour-blind-safe colours (yellow left out: too pale for outlines).
OKABE_ITO = ("#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000")
WINDOW_COLOUR = OKABE_ITO[0]    # vermillion: the current window, its output cell, its gradient
# For pictures with more windows than that: dark colours of Paul Tol's colour-blind-safe sets
# that none of the above resembles (indigo, wine, olive, grey).
MORE_COLOURS = ("#332288", "#882255", "#999933", "#888888")
PAD_FACE, PAD_EDGE, PAD_TEXT = "#eeeeee", "#aaaaaa", "#666666"
EMPTY_CELL = "#f4f4f4"          # an output cell not computed yet
BEYOND_FACE, BEYOND_EDGE = "white", "#777777"  # cells past the edge (ceil_mode): dashed, empty


def distinct_colours(count, exclude=()):
    """``count`` different outline colours, one per window of a picture: Okabe & Ito's first,
    then :data:`MORE_COLOURS`; beyond those, evenly spaced hues (no colour is ever reused)."""
    palette = [c for c in OKABE_ITO + MORE_COLOURS if c not in exclude]
    if count <= len(palette):
        return palette[:count]
    return [to_hex(c) for c in matplotlib.colormaps["turbo"](np.linspace(0, 1, count))]


def _light_colours(name, low=0.0, high=1.0, white=0.0):
    """Part of a matplotlib colormap, mixed with white so that black numbers stay readable."""
    colours = matplotlib.colormaps[name](np.linspace(low, high, 256))
    colours[:, :3] = white + (1 - white) * colours[:, :3]
    return ListedColormap(colours, name=f"light_{name}").with_extremes(bad=EMPTY_CELL)


VALUE_COLOURS = _light_colours("viridis", white=0.5)          # values: low purple, high yellow
GRADIENT_COLOURS = _light_colours("Blues", low=0.04, high=0.6)  # gradients: 0 is almost white
MODE_NAMES = {"max": "max", "avg": "average"}
UNREACHED = (0.55, 0.55, 0.55, 0.8)  # the grey veil over input cells that no window reads


# --- numbers as text -----------------------------------------------------------------------------

def format_decimal(value):
    """Whole numbers as integers; numbers with at most four decimals exactly (5.75, 3.125,
    3.0625: any mean of integers over a window of up to 4×4 cells); others to three significant
    digits (19.1 for 19.111..., 0.33 for 1/3); NaN as blank."""
    if np.isnan(value):
        return ""
    if np.isinf(value):
        return "\u221e" if value > 0 else "\u2212\u221e"
    if float(value).is_integer():
        return str(int(value))
    for decimals in (1, 2, 3, 4):
        if abs(round(value, decimals) - value) < 1e-9 * max(1.0, abs(value)):
            return f"{value:.{decimals}f}"
    whole = len(str(int(abs(value))))
    return f"{value:.{max(0, 3 - whole)}f}".rstrip("0").rstrip(".")


def format_fraction(value):
    """Like :func:`format_decimal`, but simple fractions as ``p/q`` (``1/9`` rather than 0.11)."""
    if np.isfinite(value) and not float(value).is_integer():
        close = Fraction(float(value)).limit_denominator(100)
        if abs(float(close) - value) < 1e-9:
            return f"{close.numerator}/{close.denominator}"
    return format_decimal(value)


def format_received(value):
    """Like :func:`format_fraction`, but 0 as a blank: only cells that receive something show."""
    return "" if value == 0 else format_fraction(value)


def value_range(values, vmin=None, vmax=None):
    """``(vmin, vmax)`` for colouring ``values``: their finite min and max unless given."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    lo = vmin if vmin is not None else (finite.min() if finite.size else 0.0)
    hi = vmax if vmax is not None else (finite.max() if finite.size else 1.0)
    return lo, (hi if hi > lo else lo + 1)


# --- the pooling being drawn ---------------------------------------------------------------------

class Pooling(NamedTuple):
    """One pooling setting (``mode`` is ``"max"`` or ``"avg"``); what every picture draws.

    The other fields mean what they mean in ``pl.max_pool2d``; average pooling has no dilation.
    """

    mode: str = "max"
    pool_size: int = 2
    stride: int | None = None
    padding: int | str = 0
    dilation: int = 1
    ceil_mode: bool = False

    def checked(self):
        """This setting, or a ``ValueError`` for a mode pooling_lib does not have."""
        if self.mode not in MODE_NAMES:
            raise ValueError(f"mode must be 'max' or 'avg', got {self.mode!r}")
        if self.mode == "avg" and self.dilation != 1:
            raise ValueError("average pooling has no dilation: dilation must be 1, "
                             f"got {self.dilation}")
        return self

    def axes(self, shape):
        """Row and column geometry over an ``(H, W)`` input (two ``pooling_lib.geometry.Axis``).

        Raises ``ValueError`` naming the parameter for impossible settings.
        """
        p = self.checked()
        return plan(tuple(shape), p.pool_size, p.stride, p.padding, p.dilation, p.ceil_mode)

    def forward(self, x):
        """``x`` (H, W) -> pooled ``(oh, ow)``."""
        p = self.checked()
        if p.mode == "max":
            return pl.max_pool2d(x, p.pool_size, p.stride, p.padding, p.dilation, p.ceil_mode)
        return pl.avg_pool2d(x, p.pool_size, p.stride, p.padding, p.ceil_mode)

    def backward(self, grad_output, x, ties="first"):
        """``grad_output`` (oh, ow) and ``x`` (H, W) -> gradient for ``x`` (H, W)."""
        p = self.checked()
        if p.mode == "max":
            return pl.max_pool2d_backward(grad_output, x, p.pool_size, p.stride, p.padding,
                                          p.dilation, p.ceil_mode, ties)
        return pl.avg_pool2d_backward(grad_output, np.shape(x), p.pool_size, p.stride,
                                      p.padding, p.ceil_mode)


def window_taps(axis, index):
    """Cells that window ``index`` reads on one axis: ``start + k * dilation`` for ``k < pool``,
    with ``start = index * stride - pad_before``; cells outside ``[0, size)`` are padding.
    ``axis`` is a ``pooling_lib.geometry.Axis`` (from :meth:`Pooling.axes`)."""
    return axis.starts()[index] + axis.dilation * np.arange(axis.pool)


def window_boxes(rows, cols, i, j):
    """Cells of window ``(i, j)`` as boxes ``(row, col, height, width)``: one box, or one
    box per tap when the window is dilated."""
    r, c = window_taps(rows, i), window_taps(cols, j)
    if rows.dilation == cols.dilation == 1:
        return [(r[0], c[0], len(r), len(c))]
    return [(a, b, 1, 1) for a in r for b in c]


def unreached(rows, cols):
    """``(H, W)`` booleans: True for the input cells that no window reads (the rows and columns
    the floor drops, and cells a dilated window steps over)."""
    def read(axis):
        taps = np.concatenate([window_taps(axis, k) for k in range(axis.out)])
        hit = np.zeros(axis.size, bool)
        hit[taps[(taps >= 0) & (taps < axis.size)]] = True
        return hit
    return ~np.outer(read(rows), read(cols))


def real_padding(rows, cols):
    """The padding ``(top, bottom, left, right)`` of a pooling's two axes."""
    return rows.pad_before, rows.pad_after, cols.pad_before, cols.pad_after


def drawn_padding(rows, cols):
    """Padding cells to draw ``(top, bottom, left, right)``: the padding, plus the cells that
    ceil_mode's last window reaches beyond it."""
    def sides(axis):
        beyond = window_taps(axis, axis.out - 1)[-1] - axis.size + 1
        return axis.pad_before, max(axis.pad_after, beyond)
    return (*sides(rows), *sides(cols))


def padding_label(pooling):
    """What a padding cell is worth, written in it: ``-inf`` for max pooling, else nothing."""
    return "\u2212\u221e" if pooling.mode == "max" else ""


# --- drawing blocks ------------------------------------------------------------------------------

def figure_png(figure, compress_level=1):
    """PNG bytes of ``figure`` at its own dpi (no version stamp, so files stay reproducible)."""
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, metadata={"Software": None},
                   pil_kwargs={"compress_level": compress_level})
    return buffer.getvalue()


@lru_cache(maxsize=4096)
def _text_path(text, size):
    """Outline of ``text`` at ``size`` points, centred on (0, 0) (vertically on the digits)."""
    if not text:
        return Path(np.zeros((1, 2)), [Path.MOVETO])
    prop = FontProperties(size=size)
    ink = TextPath((0, 0), text, prop=prop).vertices
    digit = TextPath((0, 0), "0", prop=prop).vertices
    shift = (-(ink[:, 0].min() + ink[:, 0].max()) / 2, -(digit[:, 1].min() + digit[:, 1].max()) / 2)
    return TextPath(shift, text, prop=prop)


def text_width(text, size):
    """Width in inches of ``text`` written at ``size`` points."""
    outline = _text_path(text, size).vertices[:, 0]
    return (outline.max() - outline.min()) / 72 if text else 0.0


class Labels:
    """Short texts centred on points of an Axes, drawn as one PathCollection.

    (Hundreds of Text artists take hundreds of milliseconds to draw; one collection of
    cached glyph outlines takes a few.) ``centres``: ``(n, 2)`` data coordinates.
    """

    def __init__(self, ax, centres, size, colour="black", width=None):
        self.size, self.width = size, width   # width: the most inches a text may take, or None
        self.strings = [""] * len(centres)
        points_to_pixels = Affine2D().scale(1 / 72) + ax.get_figure().dpi_scale_trans
        self.collection = ax.add_collection(PathCollection(
            [_text_path("", size)] * len(centres), offsets=np.reshape(centres, (-1, 2)),
            offset_transform=ax.transData, transform=points_to_pixels,
            facecolor=colour, edgecolor="none", linewidths=0, zorder=3), autolim=False)

    def set(self, strings):
        """Show ``strings``, one per centre."""
        self.strings = list(strings)
        self.collection.set_paths([_text_path(s, self.fitting_size(s)) for s in self.strings])

    def fitting_size(self, text):
        """The label size, made smaller for a ``text`` too wide for :attr:`width`."""
        wide = text_width(text, self.size)
        if self.width is None or wide <= self.width:
            return self.size
        return np.floor(10 * self.size * self.width / wide) / 10


class Grid:
    """A ``(rows, cols)`` grid of numbers with optional padding cells around it.

    Input cell ``(r, c)`` is the unit square at ``origin + (c, r)``; padding cells (``r`` or
    ``c`` outside the grid) are drawn grey and hatched. ``fmt`` turns a number into its label,
    ``cmap`` a number into the colour of its cell; ``values`` holds what is shown.
    """

    def __init__(self, ax, shape, origin, pad=NO_PAD, title="", fontsize=11, fmt=format_decimal,
                 cmap=VALUE_COLOURS, cell_inches=None):
        self.shape = rows, cols = tuple(shape)
        self.origin, self.fmt = origin, fmt
        self.values = np.full(self.shape, np.nan)
        top, bottom, left, right = pad
        inside = list(np.ndindex(rows, cols))
        outside = [(r, c) for r in range(-top, rows + bottom) for c in range(-left, cols + right)
                   if not (0 <= r < rows and 0 <= c < cols)]
        self.outside = outside
        self.cells = ax.add_collection(PatchCollection(
            [Rectangle(self.corner(r, c), 1, 1) for r, c in inside], cmap=cmap,
            edgecolor="white", linewidth=1.5), autolim=False)
        if outside:  # one hatched sheet under all padding cells: hatching each cell is slow
            ax.add_patch(Rectangle(self.corner(-top, -left), cols + left + right,
                                   rows + top + bottom, facecolor=PAD_FACE, edgecolor=PAD_EDGE,
                                   hatch="////", linewidth=0, zorder=0.5))
        self.padding = ax.add_collection(PatchCollection(
            [Rectangle(self.corner(r, c), 1, 1) for r, c in outside], facecolor="none",
            edgecolor="white", linewidth=1.5), autolim=False)
        room = None if cell_inches is None else LABEL_ROOM * cell_inches  # a number fits its cell
        self.veil = ax.add_collection(PatchCollection(  # greys cells out, numbers included
            [Rectangle(self.corner(r, c), 1, 1) for r, c in inside], facecolor="none",
            edgecolor="none", zorder=3.5), autolim=False)
        self.labels = Labels(ax, [self.centre(r, c) for r, c in inside], fontsize, width=room)
        self.padding_labels = Labels(ax, [self.centre(r, c) for r, c in outside], fontsize,
                                     PAD_TEXT, width=room)
        middle = origin[0] + (cols + right - left) / 2
        self.title = ax.text(middle, origin[1] - top - 0.25, title, ha="center", va="bottom",
                             fontsize=fontsize * 0.95)

    def corner(self, row, col):
        """Top-left corner of cell ``(row, col)`` in board coordinates."""
        return self.origin[0] + col, self.origin[1] + row

    def centre(self, row, col):
        """Centre of cell ``(row, col)`` in board coordinates."""
        return self.origin[0] + col + 0.5, self.origin[1] + row + 0.5

    def box(self, row, col, height=1, width=1):
        """Board rectangle ``(x, y, width, height)`` of the cells from ``(row, col)`` on."""
        return (*self.corner(row, col), width, height)

    def show(self, values, vmin=None, vmax=None):
        """Write ``values`` (rows, cols) in the cells, coloured from ``vmin`` to ``vmax``; NaN
        cells stay blank."""
        values = np.asarray(values, dtype=float)
        if values.shape != self.shape:
            raise ValueError(f"values of shape {values.shape} do not fit a grid of shape "
                             f"{self.shape}")
        self.values = values
        self.cells.set_array(values.ravel())
        self.cells.set_clim(*value_range(values, vmin, vmax))
        self.labels.set(self.fmt(v) for v in values.flat)

    def grey_out(self, cells):
        """Veil the cells where ``cells`` (rows, cols) is True in grey (none when all False)."""
        veil = np.zeros((cells.size, 4))
        veil[np.ravel(cells)] = UNREACHED
        self.veil.set_facecolor(veil)

    def label_padding(self, text, pad=None):
        """Write ``text`` in every padding cell. With ``pad`` (top, bottom, left, right), the
        real padding, the cells drawn beyond it (where ceil_mode's last window hangs over the
        edge: cells that are not there and that nobody reads) stay blank and are drawn as
        dashed empty frames on white, unlike the hatched padding."""
        rows, cols = self.shape
        top, bottom, left, right = pad if pad is not None else (np.inf,) * 4
        beyond = np.array([not (-top <= r < rows + bottom and -left <= c < cols + right)
                           for r, c in self.outside], dtype=bool)
        self.padding_labels.set("" if past else text for past in beyond)
        if beyond.size:
            self.padding.set_facecolor([BEYOND_FACE if past else "none" for past in beyond])
            self.padding.set_edgecolor([BEYOND_EDGE if past else "white" for past in beyond])
            self.padding.set_linestyle([(0, (2, 2)) if past else "solid" for past in beyond])
            self.padding.set_zorder(1.6 if beyond.any() else 1)

    def beyond_edge(self):
        """``(n, 2)`` cells ``(row, col)`` drawn as beyond the edge (not input, not padding)."""
        faces = self.padding.get_facecolor()
        past = [k for k in range(len(self.outside)) if len(faces) > k and faces[k][3] > 0]
        return np.array([self.outside[k] for k in past], dtype=int).reshape(-1, 2)


class _Reused:
    """Artists of one kind, made when first needed, then moved and hidden rather than rebuilt."""

    def __init__(self, ax, make):
        self.ax, self.make, self.artists = ax, make, []

    def take(self, count):
        """The first ``count`` artists, visible; the others hidden."""
        while len(self.artists) < count:
            self.artists.append(self.ax.add_artist(self.make()))
        for k, artist in enumerate(self.artists):
            artist.set_visible(k < count)
        return self.artists[:count]


class Outlines(_Reused):
    """Thick coloured frames around boxes ``(x, y, width, height)`` in board coordinates."""

    def __init__(self, ax, colour=WINDOW_COLOUR, linewidth=3.5, inset=0.08):
        super().__init__(ax, lambda: Rectangle((0, 0), 1, 1, fill=False, edgecolor=colour,
                                               linewidth=linewidth, zorder=4))
        self.inset = inset

    def show(self, boxes):
        for frame, (x, y, w, h) in zip(self.take(len(boxes)), boxes):
            frame.set_bounds(x + self.inset, y + self.inset, w - 2 * self.inset, h - 2 * self.inset)


class Arrows(_Reused):
    """Curved arrows between pairs of points ``(start, end)`` in board coordinates."""

    def __init__(self, ax, colour=WINDOW_COLOUR):
        super().__init__(ax, lambda: FancyArrowPatch(
            (0, 0), (1, 1), arrowstyle="-|>", mutation_scale=13, color=colour, linewidth=1.4,
            shrinkA=11, shrinkB=8, connectionstyle="arc3,rad=-0.12", zorder=2.5))  # under numbers

    def show(self, segments):
        for arrow, (start, end) in zip(self.take(len(segments)), segments):
            arrow.set_positions(start, end)


def cell_fontsize(cell_inches):
    """The size of the numbers in cells ``cell_inches`` wide: a third of a cell, at least
    :data:`MIN_FONT` (slides)."""
    return max(round(0.36 * 72 * cell_inches, 1), MIN_FONT)


class Board(Figure):
    """A Figure with one Axes measured in cells, filled with grids left to right, row by row.

    Add grids with :meth:`grid`, then call :meth:`fit` once to size the Figure so that a
    cell is ``cell_inches`` wide.
    """

    def __init__(self, cell_inches=CELL_INCHES, dpi=DPI, fontsize=None):
        super().__init__(dpi=dpi)
        FigureCanvasAgg(self)
        self.cell_inches = cell_inches
        self.fontsize = fontsize or cell_fontsize(cell_inches)
        self.ax = self.add_axes((0, 0, 1, 1))
        self.ax.set_axis_off()
        self.grids = []
        self._next_x = self._row_top = self._row_height = self._width = 0.0

    def place(self, width, height, new_row=False):
        """Reserve a ``width x height`` block (in cells); return its top-left corner."""
        if new_row and self._next_x:
            self._row_top += self._row_height + GAP
            self._next_x = self._row_height = 0.0
        corner = (self._next_x, self._row_top)
        self._next_x += width + GAP
        self._row_height = max(self._row_height, height)
        self._width = max(self._width, self._next_x - GAP)
        return corner

    def grid(self, shape, pad=NO_PAD, title="", new_row=False, fmt=format_decimal,
             cmap=VALUE_COLOURS):
        """A new :class:`Grid` for a ``(rows, cols)`` array, with room for ``title`` above it."""
        top, bottom, left, right = pad
        width = shape[1] + left + right
        block = max(width, text_width(title, self.fontsize) / self.cell_inches + 0.2)
        x, y = self.place(block, shape[0] + top + bottom + TITLE_ROOM, new_row)
        origin = (x + (block - width) / 2 + left, y + TITLE_ROOM + top)
        grid = Grid(self.ax, shape, origin, pad, title, self.fontsize, fmt, cmap, self.cell_inches)
        self.grids.append(grid)
        return grid

    def fit(self, margin=0.3):
        """Size the Figure to what was placed; returns the board."""
        height = self._row_top + self._row_height
        self.ax.set_xlim(-margin, self._width + margin)
        self.ax.set_ylim(height + margin, -margin)
        self.set_size_inches((self._width + 2 * margin) * self.cell_inches,
                             (height + 2 * margin) * self.cell_inches)
        return self

    def png(self, compress_level=1):
        """The board as PNG bytes."""
        return figure_png(self, compress_level)


def cells_for(labels, cell_inches=CELL_INCHES):
    """``(cell_inches, fontsize)`` of cells that hold every text of ``labels``: the given cells
    and their usual font, or wider cells with text at :data:`MIN_FONT` when a number needs it."""
    if all(text_width(t, cell_fontsize(cell_inches)) <= LABEL_ROOM * cell_inches for t in labels):
        return cell_inches, None
    widest = max(text_width(t, MIN_FONT) for t in labels)
    return max(cell_inches, round(widest / LABEL_ROOM + 0.005, 2)), MIN_FONT


def board_for(values, cell_inches=CELL_INCHES, fmt=format_decimal):
    """A :class:`Board` whose cells hold every one of ``values`` as ``fmt`` writes it (see
    :func:`cells_for`)."""
    cell, fontsize = cells_for([fmt(v) for v in values], cell_inches)
    return Board(cell, fontsize=fontsize)


def _reuse(picture, kind, *shapes):
    """``picture`` if it is a ``kind`` built for these shapes, else a new ``kind(*shapes)``."""
    if isinstance(picture, kind) and picture.shapes == shapes:
        return picture
    return kind(*shapes)


# --- pictures that update in place ---------------------------------------------------------------

class WindowPicture(Board):
    """An input grid (with its padding) and the output grid; one window outlined on both.

    Built for ``input_shape (H, W)``, ``output_shape (oh, ow)`` and ``pad`` (top, bottom,
    left, right); :func:`draw_window` fills it in.
    """

    def __init__(self, input_shape, output_shape, pad=NO_PAD, cells=(CELL_INCHES, None)):
        super().__init__(*cells[:1], fontsize=cells[1])
        self.shapes = (input_shape, output_shape, pad, cells)
        self.input = self.grid(input_shape, pad, "input {}\u00d7{}".format(*input_shape))
        self.output = self.grid(output_shape, title=output_title("avg", output_shape))
        self.window = Outlines(self.ax)
        self.cell = Outlines(self.ax)
        self.fit()


def output_title(mode, shape):
    """Title of an output grid, e.g. 'max pooling -> 3x3'."""
    return "{} pooling \u2192 {}\u00d7{}".format(MODE_NAMES[mode], *shape)


def show_input_output(picture, x, out, pooling):
    """Fill ``picture``'s input grid with ``x`` (its padding labelled, the cells no window reads
    greyed out) and its output grid with ``out``, both on the colour scale of ``x``."""
    lo, hi = value_range(x)
    picture.input.show(x, lo, hi)
    picture.input.label_padding(padding_label(pooling), real_padding(*pooling.axes(np.shape(x))))
    picture.input.grey_out(unreached(*pooling.axes(np.shape(x))))
    picture.output.show(out, lo, hi)


def draw_window(x, pooling, index=0, filled=None, picture=None):
    """Draw ``x`` (H, W), its pooled output and window number ``index`` (row-major) outlined
    on both. Only the first ``filled`` output cells are written (all when ``None``).

    Reuses ``picture`` (a :class:`WindowPicture`) when the shapes still fit; returns the picture.
    Raises ``ValueError`` for settings pooling_lib refuses.
    """
    x = np.asarray(x)
    rows, cols = pooling.axes(x.shape)
    out = pooling.forward(x).astype(float)
    if filled is not None:
        out.flat[filled:] = np.nan
    cells = cells_for([format_decimal(v) for v in (*np.ravel(x), *np.ravel(out))])
    picture = _reuse(picture, WindowPicture, x.shape, out.shape, drawn_padding(rows, cols), cells)
    show_input_output(picture, x, out, pooling)
    picture.output.title.set_text(output_title(pooling.mode, out.shape))
    i, j = divmod(index, cols.out)
    picture.window.show([picture.input.box(*b) for b in window_boxes(rows, cols, i, j)])
    picture.cell.show([picture.output.box(i, j)])
    return picture


class GradientPicture(Board):
    """Four grids in a row: input ``x`` (H, W), output ``y`` (oh, ow), the gradient one output
    cell sends back to ``x`` (with arrows), and the total gradient when every cell of ``y``
    sends 1. :func:`draw_gradient` fills it in."""

    def __init__(self, input_shape, output_shape, pad=NO_PAD, cells=(CELL_INCHES, None)):
        super().__init__(*cells[:1], fontsize=cells[1])
        self.shapes = (input_shape, output_shape, pad, cells)
        self.input = self.grid(input_shape, pad, "input x")
        self.output = self.grid(output_shape, title="output y")
        self.from_cell = self.grid(input_shape, title="gradient from y[0, 0]", fmt=format_received,
                                   cmap=GRADIENT_COLOURS)
        self.total = self.grid(input_shape, title="gradient from all of y", fmt=format_fraction,
                               cmap=GRADIENT_COLOURS)
        self.window = Outlines(self.ax)
        self.cell = Outlines(self.ax)
        self.arrows = Arrows(self.ax)
        self.fit()


def draw_gradient(x, pooling, cell=(0, 0), ties="first", picture=None):
    """Draw the backward pass of ``pooling`` over ``x`` (H, W) for output ``cell`` (i, j):
    the gradient that cell alone sends back, and the total when every output cell sends 1.

    Reuses ``picture`` (a :class:`GradientPicture`) when the shapes still fit; returns it.
    """
    x = np.asarray(x, dtype=float)
    rows, cols = pooling.axes(x.shape)
    y = pooling.forward(x)
    i, j = cell
    one_hot = np.zeros(y.shape)
    one_hot[i, j] = 1
    from_cell = pooling.backward(one_hot, x, ties)
    total = pooling.backward(np.ones(y.shape), x, ties)
    cells = cells_for([format_decimal(v) for v in (*np.ravel(x), *np.ravel(y))]
                      + [format_fraction(v) for v in (*np.ravel(from_cell), *np.ravel(total))])
    picture = _reuse(picture, GradientPicture, x.shape, y.shape, drawn_padding(rows, cols), cells)
    show_input_output(picture, x, y, pooling)
    picture.from_cell.show(from_cell, 0)
    picture.total.show(total, 0)
    picture.from_cell.title.set_text(f"gradient from y[{i}, {j}]")
    picture.window.show([picture.input.box(*b) for b in window_boxes(rows, cols, i, j)])
    picture.cell.show([picture.output.box(i, j)])
    start = picture.output.centre(i, j)
    picture.arrows.show([(start, picture.from_cell.centre(r, c))
                         for r, c in np.argwhere(from_cell)])
    return picture


class ImagePanels(Figure):
    """``count`` grey images side by side, each drawn at the size of an ``(H, W)`` image."""

    def __init__(self, count, shape, inches=2.6):
        h, w = shape
        panel = (inches, inches * h / w)
        title, gap = 0.4, 0.15
        size = (count * (panel[0] + gap) + gap, panel[1] + title + gap)
        super().__init__(figsize=size, dpi=DPI)
        FigureCanvasAgg(self)
        self.shapes = (count, tuple(shape))
        self.panels = []
        for k in range(count):
            ax = self.add_axes((((gap + k * (panel[0] + gap)) / size[0]), gap / size[1],
                                panel[0] / size[0], panel[1] / size[1]))
            ax.set_axis_off()
            image = ax.imshow(np.zeros(shape), cmap="gray", interpolation="nearest",
                              extent=(0, w, h, 0))
            self.panels.append((ax, image))

    def png(self, compress_level=1):
        """The panels as PNG bytes."""
        return figure_png(self, compress_level)


def draw_images(images, titles, picture=None):
    """Draw 2-D arrays side by side at one size, grey, all on the scale of the first one.

    Reuses ``picture`` (an :class:`ImagePanels`) when the count and first shape still fit.
    """
    picture = _reuse(picture, ImagePanels, len(images), np.shape(images[0]))
    lo, hi = value_range(images[0])
    for (ax, shown), image, title in zip(picture.panels, images, titles):
        shown.set_data(image)
        shown.set_clim(lo, hi)
        ax.set_title(title, fontsize=10)
    return picture


# --- static pictures -----------------------------------------------------------------------------

def show_channels(x, pool_size, stride=None, mode="max", depth=(0.45, 0.35)):
    """A Figure of pooling a volume ``x`` (C, H, W): its channels drawn as a 3-D stack of
    slabs (channel 0 in front), an arrow, and the pooled stack (C, oh, ow). The first window
    is outlined on every channel and its output cell on every output slab: the same windows,
    each channel pooled on its own. ``depth``: the step, in cells, from one slab to the next."""
    x = np.asarray(x)
    out = Pooling(mode, pool_size, stride).forward(x)
    C, H, W = x.shape
    lo, hi = value_range(x)
    dx, dy = depth
    gap = 2.6                                           # cells between the two stacks
    figure = Figure(dpi=DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    colours, out_colours = (VALUE_COLOURS(np.clip((v - lo) / ((hi - lo) or 1), 0, 1))
                            for v in (x, out))
    window = (pool_size, pool_size) if np.ndim(pool_size) == 0 else tuple(pool_size)  # (kh, kw)
    size = cell_fontsize(CELL_INCHES)

    def slab(values, faces, left, channel, box):
        """One channel as a grid, shifted up and right by its depth; drawn back to front, with
        numbers on the front channel only (the others show an edge)."""
        ox, oy = left + channel * dx, -channel * dy
        z = 10 * (C - channel)
        for (r, c), v in np.ndenumerate(values):
            ax.add_patch(Rectangle((ox + c, oy + r), 1, 1, facecolor=faces[r, c],
                                   edgecolor="white", linewidth=1.2, zorder=z))
            if channel == 0:
                ax.text(ox + c + 0.5, oy + r + 0.5, format_decimal(v), ha="center", va="center",
                        fontsize=size, zorder=z + 1)
        ax.add_patch(Rectangle((ox + 0.06, oy + 0.06), box[1] - 0.12, box[0] - 0.12, fill=False,
                               edgecolor=WINDOW_COLOUR, linewidth=3, zorder=z + 2))
        ax.add_patch(Rectangle((ox, oy), values.shape[1], values.shape[0], fill=False,
                               edgecolor="#555555", linewidth=1, zorder=z + 2))

    right = W + (C - 1) * dx + gap
    for channel in reversed(range(C)):
        slab(x[channel], colours[channel], 0, channel, window)
        slab(out[channel], out_colours[channel], right, channel, (1, 1))
    top = -(C - 1) * dy
    ax.annotate("", xy=(right - 0.3, H / 2), xytext=(W + (C - 1) * dx + 0.3, H / 2),
                arrowprops=dict(arrowstyle="-|>", color="#444444", linewidth=1.5))
    ax.text((W + (C - 1) * dx + right) / 2, H / 2 - 0.35, f"{MODE_NAMES[mode]} pool",
            ha="center", va="bottom", fontsize=size * 0.95)
    ax.text((W + (C - 1) * dx) / 2, -0.4 + top, "input {}\u00d7{}\u00d7{}".format(C, H, W),
            ha="center", fontsize=size * 0.95)
    title = "output {}\u00d7{}\u00d7{}".format(*out.shape)
    middle = right + (out.shape[2] + (C - 1) * dx) / 2
    ax.text(middle, -0.4 + top, title, ha="center", fontsize=size * 0.95)
    half_title = text_width(title, size * 0.95) / CELL_INCHES / 2 + 0.1  # in cells
    width = max(right + out.shape[2] + (C - 1) * dx, middle + half_title)
    ax.set_xlim(-0.3, width + 0.3)
    ax.set_ylim(H + 0.3, top - 1.3)
    figure.set_size_inches((width + 0.6) * CELL_INCHES, (H + 1.6 + (C - 1) * dy) * CELL_INCHES)
    return figure


def show_confusion(matrix, truth="true digit", prediction="predicted digit"):
    """A Figure of a confusion matrix ``(k, k)``: row ``i`` counts the examples of class ``i``,
    column ``j`` those predicted as ``j``, so the right answers lie on the diagonal. Every count
    is written in its cell (white on dark cells); darker blue means more; mistakes (off the
    diagonal, not 0) are framed in the window colour."""
    matrix = np.asarray(matrix)
    k = len(matrix)
    figure = Figure(figsize=(0.42 * k + 1.2, 0.42 * k + 1.1), dpi=DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.9 / (0.42 * k + 1.2), 0.25 / (0.42 * k + 1.1),
                          0.42 * k / (0.42 * k + 1.2), 0.42 * k / (0.42 * k + 1.1)))
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=max(matrix.max(), 1))
    ax.set_xticks(range(k), range(k), fontsize=10)
    ax.set_yticks(range(k), range(k), fontsize=10)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(prediction, fontsize=11)
    ax.set_ylabel(truth, fontsize=11)
    ax.tick_params(length=0)
    dark = matrix > matrix.max() / 2
    for (i, j), count in np.ndenumerate(matrix):
        mistake = i != j and count > 0
        ax.text(j, i, count, ha="center", va="center", fontsize=10 if count < 100 else 8.5,
                fontweight="bold" if mistake else "normal",
                color="white" if dark[i, j] else ("#999999" if count == 0 else "black"))
        if mistake:  # the mistakes are few and pale: frame them
            ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, linewidth=2,
                                   edgecolor=WINDOW_COLOUR))
    return figure


def show_grid(values, title="", fmt=format_decimal):
    """A Figure of one grid of numbers, ``values`` shaped (rows, cols)."""
    return show_grids([values], [title], fmt)


def show_grids(grids, titles, fmt=format_decimal, scale=None):
    """A Figure of grids of numbers side by side, each ``(rows, cols)`` with its title, each
    coloured on its own scale, or all on ``scale = (low, high)``."""
    board = Board()
    for values, title in zip(grids, titles, strict=True):
        board.grid(np.shape(values), title=title, fmt=fmt).show(values, *(scale or (None, None)))
    return board.fit()


def show_convolution(image, kernel, cell=(0, 0)):
    """A Figure of one step of a convolution (stride 1, no padding; cross-correlation, as CNNs
    compute it): ``image`` (H, W) with the window of output ``cell`` outlined, the ``kernel``
    (k, k), the window times the kernel cell by cell, and the feature map
    (H − k + 1, W − k + 1), whose ``cell`` is the sum of those products."""
    from ..cnn.nn import correlate  # the convolution of the series' CNN
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    k, (i, j) = kernel.shape[0], cell
    products = image[i:i + k, j:j + k] * kernel
    feature_map = correlate(image[None, None], kernel[None, None], 0)[0, 0]
    board = board_for(np.concatenate([image.ravel(), kernel.ravel(), products.ravel(),
                                      feature_map.ravel()]), cell_inches=0.32)
    picture = board.grid(image.shape, title="image")
    picture.show(image)
    board.grid(kernel.shape, title="kernel").show(kernel)
    board.grid(products.shape, title="window × kernel").show(products)
    result = board.grid(feature_map.shape, title=f"feature map: ({i}, {j}) = "
                                                 f"{format_decimal(products.sum())}")
    result.show(feature_map)
    Outlines(board.ax).show([picture.box(i, j, k, k), result.box(i, j)])
    return board.fit()


def show_window(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False, mode="max",
                index=0):
    """A Figure of ``x`` (H, W) with window ``index`` outlined, and the pooled output."""
    pooling = Pooling(mode, pool_size, stride, padding, dilation, ceil_mode)
    return draw_window(x, pooling, index)


def show_pools(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False, mode="max"):
    """A Figure with every window of a pooling over a small ``x`` (H, W): one copy of ``x`` per
    window, each window in its own colour, then the output with each cell in its window's colour.
    """
    x = np.asarray(x)
    pooling = Pooling(mode, pool_size, stride, padding, dilation, ceil_mode)
    rows, cols = pooling.axes(x.shape)
    out = pooling.forward(x)
    pad = drawn_padding(rows, cols)
    lo, hi = value_range(x)
    board = board_for(np.concatenate([np.ravel(x), np.ravel(out)]), cell_inches=0.32)
    cells = list(np.ndindex(out.shape))
    colours = distinct_colours(len(cells))
    dropped = unreached(rows, cols)
    for n, (i, j) in enumerate(cells):
        grid = board.grid(x.shape, pad, f"pool {n} \u2192 {format_decimal(out[i, j])}",
                          new_row=(j == 0))
        grid.show(x, lo, hi)
        grid.label_padding(padding_label(pooling), real_padding(rows, cols))
        grid.grey_out(dropped)
        Outlines(board.ax, colours[n]).show([grid.box(*b) for b in window_boxes(rows, cols, i, j)])
    result = board.grid(out.shape, title=output_title(mode, out.shape), new_row=True)
    result.show(out, lo, hi)
    for n, (i, j) in enumerate(cells):
        Outlines(board.ax, colours[n]).show([result.box(i, j)])
    return board.fit()


def show_gradient(x, pool_size, stride=None, padding=0, mode="max", cell=(0, 0), ties="first"):
    """A Figure of the backward pass over ``x`` (H, W): what output ``cell`` sends back, with
    arrows, and the total gradient when every output cell sends 1 (overlaps add up)."""
    return draw_gradient(x, Pooling(mode, pool_size, stride, padding), cell, ties)


def show_im2col(x, pool_size, stride=None, padding=0, mode="max", highlight=None):
    """A Figure of im2col over a small ``x`` (H, W): the input, the column matrix (one column
    per window, its ``K = kh·kw`` cells top to bottom, each column outlined in its window's
    colour), the reduction down every column and that row reshaped into the output.

    With ``mode="max"`` each column's winner (first maximum) is outlined in black; padded
    cells hold −∞ (max) or 0 (average). ``highlight``: numbers of the windows outlined on the
    input (default: all when windows do not overlap, else the first two)."""
    from ..im2col import im2col as unfold
    x = np.asarray(x)
    pooling = Pooling(mode, pool_size, stride, padding)
    rows, cols = pooling.axes(x.shape)
    columns = unfold(x.astype(float), pool_size, stride, padding,
                     fill=-np.inf if mode == "max" else 0.0)
    (K, L), out = columns.shape, pooling.forward(x)
    colours = distinct_colours(L, exclude=("#000000",))  # black marks the winners
    if highlight is None:
        overlap = rows.stride < rows.pool or cols.stride < cols.pool
        highlight = range(min(2, L)) if overlap else range(L)
    lo, hi = value_range(x)
    board = Board()
    source = board.grid(x.shape, drawn_padding(rows, cols), "input {}\u00d7{}".format(*x.shape))
    source.show(x, lo, hi)
    source.label_padding(padding_label(pooling), real_padding(rows, cols))
    for n in highlight:
        boxes = window_boxes(rows, cols, *divmod(n, cols.out))
        Outlines(board.ax, colours[n]).show([source.box(*b) for b in boxes])
    matrix = board.grid((K, L), title=f"columns: {K} cells \u00d7 {L} windows")
    matrix.show(columns, lo, hi)
    board.place(matrix.origin[0] - GAP, 0, new_row=True)  # the next row starts under the matrix
    reduced = board.grid((1, L), title=f"{MODE_NAMES[mode]} down each column")
    reduced.show(out.reshape(1, L), lo, hi)
    result = board.grid(out.shape, title="reshaped \u2192 {}\u00d7{}".format(*out.shape))
    result.show(out, lo, hi)
    for n in range(L):
        outline = Outlines(board.ax, colours[n], linewidth=2.5)
        outline.show([matrix.box(0, n, K, 1), reduced.box(0, n), result.box(*divmod(n, cols.out))])
    if mode == "max":
        winners = columns.argmax(axis=0)
        Outlines(board.ax, "black", linewidth=1.5, inset=0.2).show(
            [matrix.box(w, n) for n, w in enumerate(winners)])
    return board.fit()
