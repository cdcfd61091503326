import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import pooling_lib as pl  # noqa: E402
from pooling_lib.course import plotting as P  # noqa: E402

EXAMPLE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])


def visible(reused):
    return [artist for artist in reused.artists if artist.get_visible()]


def strings(values):
    return [P.format_decimal(v) for v in np.ravel(values)]


def test_numbers_are_written_short_and_exact():
    assert [P.format_decimal(v) for v in (7.0, 5.75, 172 / 9, -2.25, np.nan, 0.1 + 0.2)] == \
        ["7", "5.75", "19.1", "-2.25", "", "0.3"]
    assert [P.format_decimal(v) for v in (3.125, 49 / 16, 3.25, 19.111)] == \
        ["3.125", "3.0625", "3.25", "19.111"]             # never rounded when exact in 4 decimals
    assert [P.format_fraction(v) for v in (1 / 9, 0.5, 2.0, 4 / 9, 0.123456)] == \
        ["1/9", "1/2", "2", "4/9", "0.12"]
    assert [P.format_received(v) for v in (0.0, 1 / 3)] == ["", "1/3"]


def test_window_taps_follow_stride_padding_and_dilation():
    rows, _ = P.Pooling("max", 3, 2, padding=1, dilation=2).axes((7, 7))
    assert [list(P.window_taps(rows, i)) for i in range(rows.out)] == \
        [[-1, 1, 3], [1, 3, 5], [3, 5, 7]]


def test_same_padding_puts_the_smaller_half_before():
    rows, cols = P.Pooling("max", 2, 2, "same").axes((5, 5))  # out 3, total padding 1
    assert P.drawn_padding(rows, cols) == (0, 1, 0, 1)
    assert list(P.window_taps(rows, 2)) == [4, 5]


def test_drawn_padding_reaches_the_cells_of_ceil_mode_windows():
    rows, cols = P.Pooling("max", 2, 2, ceil_mode=True).axes((5, 3))
    assert (rows.out, cols.out) == (3, 2)
    assert P.drawn_padding(rows, cols) == (0, 1, 0, 1)


def test_window_boxes_are_one_box_or_one_per_dilated_tap():
    rows, cols = P.Pooling("max", 2, 1).axes((4, 4))
    assert P.window_boxes(rows, cols, 1, 2) == [(1, 2, 2, 2)]
    rows, cols = P.Pooling("max", 2, 1, dilation=2).axes((4, 4))
    assert P.window_boxes(rows, cols, 0, 1) == \
        [(0, 1, 1, 1), (0, 3, 1, 1), (2, 1, 1, 1), (2, 3, 1, 1)]


def test_show_pools_draws_all_nine_pools_of_the_4x4_example():
    fig = P.show_pools(EXAMPLE, 2, stride=1)
    assert isinstance(fig, Figure)
    assert len(fig.grids) == 10
    assert all(g.labels.strings == strings(EXAMPLE) for g in fig.grids[:9])
    assert fig.grids[-1].labels.strings == strings(pl.max_pool2d(EXAMPLE, 2, 1))
    assert [g.title.get_text()[-1] for g in fig.grids[:9]] == list("678678334")
    frames = [p for p in fig.ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
    assert len(frames) == 18  # one per window on its copy of x, one per output cell


def test_show_pools_at_stride_2_draws_four_pools():
    fig = P.show_pools(EXAMPLE, 2, stride=2)
    assert len(fig.grids) == 5
    assert fig.grids[-1].labels.strings == ["6", "8", "3", "4"]
    assert fig.grids[-1].title.get_text() == "max pooling \u2192 2\u00d72"


def test_padding_cells_are_drawn_hatched_and_labelled():
    fig = P.show_window(np.ones((5, 5)), 3, 2, padding=1)
    assert len(fig.input.padding.get_paths()) == 7 * 7 - 5 * 5
    (sheet,) = [p for p in fig.ax.patches if p.get_hatch()]
    assert (sheet.get_width(), sheet.get_height()) == (7, 7)
    assert set(fig.input.padding_labels.strings) == {"\u2212\u221e"}
    assert len(fig.input.labels.strings) == 25


def test_dilated_window_outlines_each_tap_and_its_output_cell():
    fig = P.show_window(np.arange(49).reshape(7, 7), 3, 2, padding=1, dilation=2, index=4)
    taps = visible(fig.window)
    assert len(taps) == 9
    assert {(t.get_x(), t.get_y()) for t in taps} == {
        (fig.input.origin[0] + c + 0.08, fig.input.origin[1] + r + 0.08)
        for r in (1, 3, 5) for c in (1, 3, 5)}
    (cell,) = visible(fig.cell)
    x0, y0 = fig.output.origin
    assert (cell.get_x(), cell.get_y()) == (x0 + 1.08, y0 + 1.08)


def test_draw_window_updates_in_place_and_rebuilds_for_new_shapes():
    x = np.arange(36).reshape(6, 6) % 7
    picture = P.draw_window(x, P.Pooling("max", 2, 2), 0)
    first = picture.png()
    same = P.draw_window(x * 4, P.Pooling("avg", 2, 2), 4, picture=picture)  # whole means
    assert same is picture
    assert same.png() != first
    assert same.output.labels.strings == strings(pl.avg_pool2d(x * 4, 2, 2))
    assert same.output.title.get_text() == "average pooling \u2192 3\u00d73"
    wider = P.draw_window(x, P.Pooling("avg", 2, 2), 4, picture=picture)    # 1.75 needs room
    assert wider is not picture and wider.cell_inches > picture.cell_inches
    for grid in (wider.input, wider.output):
        for text in grid.labels.strings:
            assert grid.labels.fitting_size(text) >= P.MIN_FONT
    other = P.draw_window(x, P.Pooling("max", 3, 1), 0, picture=picture)
    assert other is not picture
    assert other.output.shape == (4, 4)


def test_filled_leaves_the_later_outputs_blank():
    picture = P.draw_window(EXAMPLE, P.Pooling("max", 2, 1), 3, filled=4)
    assert picture.output.labels.strings == ["6", "7", "8", "6", "", "", "", "", ""]


def peak(size=5):
    x = np.zeros((size, size))
    x[size // 2, size // 2] = 9
    return x + np.arange(size * size).reshape(size, size) % 3 * (x == 0)


def test_gradient_picture_shows_nine_at_a_single_peak():
    fig = P.show_gradient(peak(), 3, stride=1, cell=(0, 0))
    total = fig.total.labels.strings
    assert total[12] == "9" and set(total[:12] + total[13:]) == {"0"}
    assert fig.from_cell.labels.strings == [""] * 12 + ["1"] + [""] * 12
    (arrow,) = visible(fig.arrows)
    assert arrow.zorder < fig.from_cell.labels.collection.zorder


def test_average_gradient_sends_a_ninth_to_each_window_cell():
    fig = P.show_gradient(peak(), 3, stride=1, mode="avg", cell=(1, 1))
    assert fig.from_cell.labels.strings.count("1/9") == 9
    assert len(visible(fig.arrows)) == 9
    assert fig.total.values[2, 2] == pytest.approx(1.0)


def test_draw_images_reuses_panels_until_their_count_changes():
    image = np.random.default_rng(0).random((20, 16))
    picture = P.draw_images([image, image[::2, ::2]], ["input", "half"])
    again = P.draw_images([image, image[::4, ::4]], ["input", "quarter"], picture)
    assert again is picture
    assert [ax.get_title() for ax, _ in again.panels] == ["input", "quarter"]
    assert again.panels[1][1].get_array().shape == (5, 4)
    assert P.draw_images([image], ["input"], again) is not again


def test_png_bytes_are_reproducible():
    first, second = P.show_grid(EXAMPLE).png(), P.show_grid(EXAMPLE).png()
    assert first.startswith(b"\x89PNG") and first == second
    assert b"Matplotlib" not in first


def test_settings_pooling_lib_refuses_raise_value_error():
    with pytest.raises(ValueError, match="padding"):
        P.show_window(np.ones((4, 4)), 2, padding=2)
    with pytest.raises(ValueError, match="dilation"):
        P.Pooling("avg", 2, dilation=2).forward(np.ones((4, 4)))
    with pytest.raises(ValueError, match="mode"):
        P.Pooling("median", 2).axes((4, 4))


def test_pools_are_numbered_from_0_as_the_code_counts():
    board = P.show_pools(np.arange(16).reshape(4, 4), 2, stride=2)
    titles = [t.get_text() for t in board.ax.texts if t.get_text().startswith("pool ")]
    assert [t.split()[1] for t in titles] == ["0", "1", "2", "3"]


def outline_colours(figure):
    """The edge colours of the coloured window outlines (thick unfilled rectangles) of a figure."""
    from matplotlib.colors import to_hex as hexed
    from matplotlib.patches import Rectangle
    return [hexed(p.get_edgecolor()) for ax in figure.axes for p in ax.patches
            if isinstance(p, Rectangle) and not p.get_fill() and p.get_linewidth() >= 2.5]


@pytest.mark.parametrize("count", [1, 7, 9, 11, 12, 30])
def test_distinct_colours_never_repeat(count):
    colours = P.distinct_colours(count)
    assert len(colours) == len(set(colours)) == count
    assert "#000000" not in P.distinct_colours(count, exclude=("#000000",))


def test_no_two_pools_of_a_picture_share_a_colour():
    """4×4, 2×2 at stride 1: nine pools, nine colours (each drawn on its copy and on the output)."""
    x = np.arange(16).reshape(4, 4)
    colours = outline_colours(P.show_pools(x, 2, stride=1))
    assert len(colours) == 2 * 9 and len(set(colours)) == 9
    columns = outline_colours(P.show_im2col(x, 2, stride=1))
    assert len(set(columns)) == 9 and "#000000" not in columns


def test_confusion_matrix_names_its_axes_and_frames_the_mistakes():
    matrix = np.diag(np.full(10, 30))
    matrix[8, 1], matrix[6, 1] = 2, 1
    ax, = P.show_confusion(matrix).axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted digit", "true digit")
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)]
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(d) for d in range(10)]
    assert sorted(int(t.get_text()) for t in ax.texts) == sorted(matrix.ravel())
    framed = {(round(p.get_x() + 0.45), round(p.get_y() + 0.45)) for p in ax.patches}
    assert framed == {(1, 8), (1, 6)}                        # (column, row) of each mistake
    whites = [t for t in ax.texts if t.get_color() == "white"]
    assert {t.get_text() for t in whites} == {"30"}          # dark cells get white text


@pytest.mark.parametrize("values", [[3.125, 1.0], [3.0625, 2.5], [np.inf, -np.inf], [12345.0, 7.0]])
def test_every_number_fits_its_cell(values):
    """A static picture makes its cells wide enough for its numbers at the smallest font; a
    label that still would not fit (a live explorer's new values) is written smaller."""
    x = np.array(values * 8)[:16].reshape(4, 4)
    board = P.show_pools(x, 2, stride=2, mode="avg")
    for grid in board.grids:
        for text in grid.labels.strings:
            assert P.text_width(text, grid.labels.fitting_size(text)) <= P.LABEL_ROOM * board.cell_inches
            assert grid.labels.fitting_size(text) >= P.MIN_FONT
    for picture in (P.show_window(x, 2, stride=2, mode="avg"),
                    P.show_gradient(x, 2, stride=2, mode="avg")):   # explorers' pictures too
        for grid in picture.grids:
            for text in grid.labels.strings:
                size = grid.labels.fitting_size(text)
                assert size >= P.MIN_FONT
                assert P.text_width(text, size) <= P.LABEL_ROOM * picture.cell_inches
    labels = P.Labels(board.ax, [(0, 0)], 11, width=0.2)
    assert labels.fitting_size("3.125") < 11 and P.text_width("3.125", labels.fitting_size("3.125")) <= 0.2


def test_cells_no_window_reads_are_greyed_out():
    """5×5, 2×2 at stride 2: the last row and column are in no window; a dilated window greys
    the cells it steps over too."""
    rows, cols = P.Pooling("max", 2, 2).axes((5, 5))
    expected = np.zeros((5, 5), bool)
    expected[4, :] = expected[:, 4] = True
    assert (P.unreached(rows, cols) == expected).all()
    rows, _ = P.Pooling("max", 2, 3, dilation=2).axes((5, 5))   # one window, reading 0 and 2
    assert P.unreached(rows, rows)[:, 0].tolist() == [False, True, False, True, True]
    board = P.show_pools(np.arange(25).reshape(5, 5), 2, stride=2)
    veiled = board.grids[0].veil.get_facecolor()[:, 3] > 0        # alpha of each cell's veil
    assert (veiled == expected.ravel()).all()
    picture = P.show_window(np.arange(25).reshape(5, 5), 2, stride=2)
    assert (picture.input.veil.get_facecolor()[:, 3] > 0).sum() == expected.sum()
    assert (P.show_window(np.arange(16).reshape(4, 4), 2, 2).input.veil.get_facecolor()[:, 3] == 0).all()


def test_ceil_mode_draws_its_last_window_over_blank_cells_beyond_the_edge():
    """3×3, 2×2 at stride 2, ceil_mode: the last windows hang over the edge, onto cells that
    are drawn as dashed empty frames, not labelled as padding, since nobody reads them."""
    board = P.show_pools(np.arange(9).reshape(3, 3), 2, stride=2, ceil_mode=True)
    grid = board.grids[0]
    assert len(grid.outside) == 7 and set(grid.padding_labels.strings) == {""}
    assert sorted(map(tuple, grid.beyond_edge())) == [(0, 3), (1, 3), (2, 3), (3, 0), (3, 1),
                                                      (3, 2), (3, 3)]
    assert all(style[1] is not None for style in grid.padding.get_linestyle())  # dashed
    padded = P.show_pools(np.arange(9).reshape(3, 3), 2, stride=2, padding=1)
    assert set(padded.grids[0].padding_labels.strings) == {"\u2212\u221e"}
    assert padded.grids[0].beyond_edge().size == 0
    both = P.show_pools(np.arange(36).reshape(6, 6), 3, stride=2, padding=1, ceil_mode=True)
    grid = both.grids[0]          # windows start at -1, 1, 3, 5: the last reads 5, 6 (padding), 7
    assert set(map(tuple, grid.beyond_edge())) == {(r, 7) for r in range(-1, 8)} | \
        {(7, c) for c in range(-1, 8)}
    assert grid.padding_labels.strings.count("\u2212\u221e") == 8 * 8 - 6 * 6


def test_an_explorer_picture_reused_for_same_padding_loses_the_dashed_cells():
    """'same' and ceil_mode can draw the same extra column: one is padding, the other is not."""
    x = np.arange(25).reshape(5, 5)
    picture = P.draw_window(x, P.Pooling("max", 2, 2, ceil_mode=True))
    assert len(picture.input.beyond_edge()) == 11
    again = P.draw_window(x, P.Pooling("max", 2, 2, "same"), picture=picture)
    assert again is picture and again.input.beyond_edge().size == 0


def test_channels_are_drawn_as_a_stack_pooled_channel_by_channel():
    x = np.arange(3 * 4 * 4).reshape(3, 4, 4) % 7
    ax, = P.show_channels(x, 2, stride=2).axes
    front = sorted(float(t.get_text()) for t in ax.texts if t.get_text().isdigit())
    out = pl.max_pool2d(x, 2, 2)
    assert front == sorted(np.concatenate([x[0].ravel(), out[0].ravel()]).astype(float))
    titles = [t.get_text() for t in ax.texts if not t.get_text().isdigit()]
    assert "input 3×4×4" in titles and "output 3×2×2" in titles
    frames = [p for p in ax.patches if not p.get_fill() and p.get_edgecolor()[:3] != (0, 0, 0)]
    windows = [p for p in frames if np.allclose(p.get_edgecolor()[:3],
                                                 matplotlib.colors.to_rgb(P.WINDOW_COLOUR))]
    assert len(windows) == 2 * 3                 # the first window and its cell, on every slab
    lefts = sorted({round(p.get_x(), 2) for p in windows if p.get_width() > 1})
    assert len(lefts) == 3                       # each slab shifted: a stack, not one grid


def test_every_text_of_a_channel_stack_is_inside_the_figure():
    """Global pooling of 2 channels: the output stack is one cell wide, its title is not."""
    x = np.arange(50).reshape(2, 5, 5) % 10
    figure = P.show_channels(x, 5)
    figure.canvas.draw()
    box = figure.bbox
    for text in figure.axes[0].texts:
        extent = text.get_window_extent()
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, text.get_text()


def test_convolution_step_shows_window_kernel_products_and_the_map():
    image = np.arange(20).reshape(4, 5) % 7
    kernel = np.array([[1, 0], [0, -1]])
    fig = P.show_convolution(image, kernel, cell=(1, 2))
    assert [g.title.get_text() for g in fig.grids[:3]] == ["image", "kernel", "window × kernel"]
    products = image[1:3, 2:4] * kernel
    assert fig.grids[2].labels.strings == strings(products)
    by_loop = [[(image[i:i + 2, j:j + 2] * kernel).sum() for j in range(4)] for i in range(3)]
    assert fig.grids[3].labels.strings == strings(by_loop)            # the whole feature map
    assert fig.grids[3].title.get_text() == f"feature map: (1, 2) = {products.sum()}"
    frames = [p for p in fig.ax.patches if isinstance(p, matplotlib.patches.Rectangle)
              and p.get_visible() and not p.get_fill()]
    image_grid, result = fig.grids[0], fig.grids[3]
    boxes = {tuple(round(v, 2) for v in (f.get_x(), f.get_y(), f.get_width(), f.get_height()))
             for f in frames}
    inset = 0.08
    for (x, y, w, h) in (image_grid.box(1, 2, 2, 2), result.box(1, 2)):
        assert (round(x + inset, 2), round(y + inset, 2), round(w - 2 * inset, 2),
                round(h - 2 * inset, 2)) in boxes


def test_show_grids_puts_each_grid_beside_the_last_with_its_title():
    fig = P.show_grids([EXAMPLE, EXAMPLE[:2, :3] * -5], ["a", "b"])
    assert [g.title.get_text() for g in fig.grids] == ["a", "b"]
    assert fig.grids[1].labels.strings == strings(EXAMPLE[:2, :3] * -5)
    assert fig.grids[1].origin[0] > fig.grids[0].origin[0] + 4 and fig.grids[1].origin[1] == fig.grids[0].origin[1]
    with pytest.raises(ValueError):
        P.show_grids([EXAMPLE], ["a", "b"])
