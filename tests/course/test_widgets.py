import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import pooling_lib as pl  # noqa: E402
from pooling_lib.course import widgets as W  # noqa: E402


def changes_redraw(explorer, changes, formula_names=()):
    """Apply ``changes`` (name, value) one by one; each must give a new PNG and no message,
    and those in ``formula_names`` a new formula."""
    for name, value in changes:
        png, formula = explorer.png, explorer.formula.value
        explorer.controls[name].value = value
        assert explorer.message.value == "", (name, explorer.message.value)
        assert explorer.png != png, name
        if name in formula_names:
            assert explorer.formula.value != formula, name


def test_every_explorer_starts_with_a_picture_and_a_formula():
    for make in W.SLIDER_EXPLORERS:
        explorer = make() if make is not W.max_vs_avg_explorer else make(np.eye(12))
        assert explorer.png.startswith(b"\x89PNG"), make.__name__
        assert bytes(explorer.image.value) == explorer.png
        assert explorer.formula.value and not explorer.message.value, make.__name__


def test_pool_explorer_redraws_on_every_control():
    explorer = W.pool_explorer()
    changes_redraw(explorer, [("size", 8), ("region", 3), ("stride", 1), ("mode", "avg"),
                              ("window", 5)], formula_names=("size", "region", "stride"))


def test_pool_explorer_formula_puts_in_the_numbers():
    explorer = W.pool_explorer(size=4, region=2, stride=1)
    assert "(4 &minus; 2) / 1&rfloor; + 1 = <b>3</b>" in explorer.formula.value
    assert "9 pools" in explorer.formula.value


def test_window_slider_follows_the_number_of_pools():
    explorer = W.pool_explorer(size=6, region=2, stride=2)
    window = explorer.controls["window"]
    assert window.max == 8
    explorer.controls["stride"].value = 1
    window.value = 24
    assert window.max == 24
    explorer.controls["stride"].value = 4  # (6 - 2) // 4 + 1 = 2 per side
    assert (window.max, window.value) == (3, 3)
    assert explorer.picture.output.shape == (2, 2)


def test_a_region_larger_than_the_input_gives_a_message_not_an_error():
    explorer = W.pool_explorer()
    explorer.controls["size"].value = 3
    png = explorer.png
    explorer.controls["region"].value = 5
    assert "wider than the input" in explorer.message.value
    assert "stride" not in explorer.message.value.split("(")[0]  # a smaller stride never helps
    assert "padding" not in explorer.message.value.split("(")[0]  # this explorer has none
    assert "output size" in explorer.message.value  # pooling_lib's own words follow
    assert "<b>0</b>" in explorer.formula.value
    assert explorer.png == W.faded(png)  # the last picture that worked stays, faded
    explorer.controls["region"].value = 3
    assert explorer.message.value == "" and explorer.png != png


def test_a_stale_picture_is_washed_out_towards_white():
    from PIL import Image
    import io
    png = W.pool_explorer().png
    def grey(data):
        return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=float)
    before, after = grey(png), grey(W.faded(png))
    assert before.shape == after.shape
    assert after.min() > before.min() + 100            # the darkest ink is light grey now
    assert (after >= before - 1).all()                  # nothing got darker
    assert after.std() < 0.5 * before.std()             # less contrast


def test_an_explorer_before_its_cell_runs_says_so_in_one_line():
    text = repr(W.pool_explorer())
    assert text == "Explorer: run this cell to get the sliders"


def test_counts_agree_with_their_nouns():
    assert (W.counted(1, "pool"), W.counted(4, "pool"), W.counted(0, "cell")) == \
        ("1 pool", "4 pools", "0 cells")
    assert "1 &times; 1 = 1 pool" in W.textbook_formula(2, 2, 1) and "pools" not in \
        W.textbook_formula(2, 2, 1)


def test_max_vs_avg_explorer_redraws_and_names_shapes():
    image = np.random.default_rng(0).random((40, 32))
    explorer = W.max_vs_avg_explorer(image)
    assert len(explorer.picture.panels) == 3
    changes_redraw(explorer, [("mode", "max"), ("region", 2), ("stride", 3)],
                   formula_names=("region", "stride"))
    assert len(explorer.picture.panels) == 2
    assert explorer.picture.panels[1][0].get_title() == "max 2\u00d72, stride 3 \u2192 13\u00d711"
    assert "13 rows" in explorer.formula.value and "11 columns" in explorer.formula.value


def test_max_vs_avg_explorer_uses_the_photo_by_default():
    explorer = W.max_vs_avg_explorer()
    assert explorer.picture.panels[0][0].get_title() == "input 150\u00d7128"


def test_forward_stepper_buttons_and_play_move_the_window():
    stepper = W.forward_stepper()
    assert "step 1 of 16" in stepper.formula.value
    png = stepper.png
    stepper.next_button.click()
    assert (stepper.controls["step"].value, stepper.play.value) == (1, 1)
    assert stepper.png != png and "step 2 of 16" in stepper.formula.value
    stepper.previous_button.click()
    stepper.previous_button.click()
    assert stepper.controls["step"].value == 0
    stepper.play.value = 5
    assert "step 6 of 16" in stepper.formula.value
    assert sum(s != "" for s in stepper.picture.output.labels.strings) == 6


def test_forward_stepper_redraws_on_every_control_and_shrinks_its_range():
    stepper = W.forward_stepper()
    stepper.controls["step"].value = 12
    changes_redraw(stepper, [("stride", 2), ("region", 3), ("mode", "avg"), ("step", 0)],
                   formula_names=("stride", "region", "mode", "step"))
    assert (stepper.controls["step"].max, stepper.play.max) == (3, 3)
    assert "/ 9 = <b>" in stepper.formula.value  # an average of 9 cells


def test_backward_explorer_redraws_on_every_control():
    explorer = W.backward_explorer()
    changes_redraw(explorer, [("row", 1), ("col", 2), ("region", 2), ("stride", 2),
                              ("tie", True), ("ties", "split"), ("mode", "avg")],
                   formula_names=("row", "col", "region", "mode"))
    assert explorer.controls["ties"].disabled


def test_backward_explorer_tie_policies():
    explorer = W.backward_explorer()  # 3x3 region, stride 1 over 6x6
    explorer.controls["tie"].value = True  # x[2, 2] == x[2, 3], inside window (1, 1)
    explorer.controls["row"].value = explorer.controls["col"].value = 1
    received = {}
    for ties in W.TIES:
        explorer.controls["ties"].value = ties
        received[ties] = explorer.picture.from_cell.values[2, 2:4].tolist()
    assert received == {"first": [1, 0], "last": [0, 1], "split": [0.5, 0.5], "all": [1, 1]}
    assert "tie of 2 cells" in explorer.formula.value


def test_backward_explorer_shows_overlaps_adding_up():
    explorer = W.backward_explorer()
    assert explorer.picture.total.values.max() > 1
    assert "add up" in explorer.formula.value
    explorer.controls["stride"].value = 3
    assert explorer.picture.total.values.max() == 1
    assert "do not overlap" in explorer.formula.value


def test_padding_explorer_redraws_on_every_control():
    explorer = W.padding_explorer()
    changes_redraw(explorer, [("size", 7), ("region", 4), ("stride", 3), ("padding", 2),
                              ("padding_mode", "same"), ("padding_mode", "number"),
                              ("dilation", 2), ("window", 1), ("ceil_mode", True),
                              ("dilation", 1), ("mode", "avg")],
                   formula_names=("size", "region", "stride", "padding", "dilation",
                                  "ceil_mode", "padding_mode"))


def test_padding_explorer_same_padding_formula():
    explorer = W.padding_explorer(size=5, region=3, stride=2)
    explorer.controls["padding_mode"].value = "same"
    assert explorer.controls["padding"].disabled
    assert "&lceil;5 / 2&rceil; = <b>3</b>" in explorer.formula.value
    assert "1 before, 1 after" in explorer.formula.value
    assert explorer.picture.output.shape == (3, 3)


def test_padding_explorer_ceil_mode_drops_a_window_starting_in_the_padding():
    explorer = W.padding_explorer(size=4, region=2, stride=3, padding=1)
    explorer.controls["ceil_mode"].value = True
    assert "dropped: out = <b>2</b>" in explorer.formula.value
    assert explorer.picture.output.shape == (2, 2)


@pytest.mark.parametrize("changes, hint", [
    ({"region": 2, "padding": 2}, "at most half the region"),
    ({"mode": "avg", "dilation": 2}, "no dilation"),
    ({"padding_mode": "same", "ceil_mode": True}, "ceil mode"),
    ({"size": 3, "region": 5, "dilation": 3}, "smaller region or dilation, a bigger input or more padding"),
])
def test_padding_explorer_explains_refused_settings(changes, hint):
    explorer = W.padding_explorer()
    for name, value in changes.items():
        explorer.controls[name].value = value
    assert hint in explorer.message.value


def test_kindly_adds_a_hint_and_escapes_the_details():
    text = W.kindly(ValueError("padding must be at most half the pool size, got <2>"))
    assert "Padding can be at most half the region" in text and "&lt;2&gt;" in text
    assert "can't be pooled" in W.kindly(ValueError("something new"))


def test_inputs_are_seeded_and_shaped():
    assert (W.small_input(4) == W.small_input(6)[:4, :4]).all()
    assert sorted(W.distinct_input(6).ravel()) == list(range(36))
    tied = W.distinct_input(6, tie=True)
    assert tied[2, 2] == tied[2, 3] == tied.max() and (tied == tied.max()).sum() == 2
    photo = W.sample_photo()
    assert photo.shape == (150, 128) and 0 <= photo.min() < photo.max() <= 1
    edges = W.edge_map(np.array([[0.0, 0, 1, 1, 0, 0]]))
    assert edges.tolist() == [[1, 1, 0, 0]]


def test_measure_redraw_times_real_redraws():
    seconds = W.measure_redraw(W.forward_stepper(), changes=4)
    assert 0 < seconds < 1


def small_cnn(pooling="max"):
    """A CNN of notebook 10 trained for one epoch on 300 digits (a fraction of a second)."""
    from pooling_lib.cnn.data import load_digits_split
    from pooling_lib.cnn.nn import make_cnn, train
    x_train, y_train, x_test, y_test = load_digits_split()
    network = make_cnn(pooling)
    train(network, x_train[:300], y_train[:300], epochs=1)
    return network, x_test[:20], y_test[:20]


def test_digit_explorer_shows_maps_before_and_after_pooling_and_the_prediction():
    network, images, labels = small_cnn()
    explorer = W.digit_explorer(network, images, labels)
    assert explorer.png.startswith(b"\x89PNG") and not explorer.message.value
    assert explorer.controls["digit"].max == 19
    picture = explorer.picture
    before, after = picture.before.get_array(), picture.after.get_array()
    assert before.shape == after.shape == (35, 35)  # 4x4 maps of 8x8, the pooled ones drawn 2x2
    top_left = np.asarray(after[:8, :8])
    assert (top_left[::2, ::2] == np.asarray(before[:8, :8]).reshape(4, 2, 4, 2).max(axis=(1, 3))
            ).all()
    titles = [t.get_text() for t in picture.titles]
    assert titles[1:3] == ["before pooling: 16 maps 8\u00d78",
                           "after 2\u00d72 max pooling: 16 maps 4\u00d74"]
    assert "1,024 numbers into 256" in explorer.formula.value
    heights = [bar.get_height() for bar in picture.bars]
    assert np.isclose(sum(heights), 1)
    assert titles[3].startswith(f"the network says {np.argmax(heights)}")
    changes_redraw(explorer, [("digit", 3), ("down", 1), ("right", -2)],
                   formula_names=("digit", "down", "right"))
    assert "Moved 1 down and 2 left" in explorer.formula.value


def test_digit_explorer_marks_a_wrong_prediction_and_names_the_pooling():
    network, images, labels = small_cnn("avg")
    picture = W.draw_digit(network, images[0], label=(W.digit_figures(network, images[0])[2]
                                                     .argmax() + 1) % 10)
    assert "\u2717 (it is" in picture.titles[3].get_text()
    assert W.DIGIT_WRONG.lower() in {matplotlib.colors.to_hex(b.get_facecolor())
                                     for b in picture.bars}
    assert "average pooling" in picture.titles[2].get_text()


def test_digit_explorer_refuses_a_network_without_pooling():
    network, images, labels = small_cnn(None)
    with pytest.raises(ValueError, match="no pooling layer"):
        W.digit_explorer(network, images, labels)


def test_feature_mosaic_puts_maps_in_rows_with_blank_lines():
    maps = np.arange(5 * 2 * 2).reshape(5, 2, 2)
    mosaic = W.feature_mosaic(maps, columns=2, repeat=2)
    assert mosaic.shape == (3 * 5 - 1, 2 * 5 - 1)
    assert (mosaic[:4, :4] == np.kron(maps[0], np.ones((2, 2)))).all()
    assert np.isnan(mosaic[4]).all() and np.isnan(mosaic[:, 4]).all()
    assert (mosaic[10:, :4] == np.kron(maps[4], np.ones((2, 2)))).all()
    assert np.isnan(mosaic[10:, 5:]).all()  # no sixth map


def test_the_formula_names_the_rows_and_columns_no_window_reaches():
    assert "the last 1 row and 1 column fit in no window (grey)" in W.textbook_formula(5, 2, 2)
    assert "the last 2 rows and 2 columns" in W.textbook_formula(8, 3, 3)
    assert "no window" not in W.textbook_formula(6, 2, 2)


def test_padding_explorer_shows_the_window_ceil_mode_adds_beyond_the_edge():
    """5 cells, region 2, stride 2: the floor makes 2 windows, ceil_mode 3, the third hanging
    over the edge onto dashed cells; with padding 'same' the same column is padding instead."""
    explorer = W.padding_explorer(size=5, region=2, stride=2, padding=0)
    assert "dashed" not in explorer.formula.value and explorer.picture.input.beyond_edge().size == 0
    explorer.controls["ceil_mode"].value = True
    assert "one window more than the floor" in explorer.formula.value
    assert explorer.picture.output.shape == (3, 3)
    assert len(explorer.picture.input.beyond_edge()) == 11       # a row and a column past 5×5
    explorer.controls["window"].value = 8
    (frame,) = [f for f in explorer.picture.window.artists if f.get_visible()]
    assert frame.get_x() + frame.get_width() > explorer.picture.input.corner(0, 5)[0]
    W.padding_explorer(size=4, region=2, stride=3, padding=1).controls["ceil_mode"].value = True
    dropped = W.padded_formula(4, 2, 3, 1, 1, True)
    assert "dropped" in dropped and "one window more" not in dropped


def test_lp_explorer_slides_the_power_mean_from_the_average_to_the_max():
    explorer = W.lp_explorer()
    x = W.small_input(6)
    first = x[:2, :2].astype(float)
    seen = []
    for label, p in W.NORMS:
        explorer.controls["p"].value = p
        average, middle, largest = (g.values for g in explorer.picture.grids[1:])
        np.testing.assert_allclose(average, pl.avg_pool2d(x, 2))
        np.testing.assert_allclose(largest, pl.max_pool2d(x, 2))
        expected = first.max() if np.isinf(p) else np.mean(first ** p) ** (1 / p)
        assert middle[0, 0] == pytest.approx(expected)
        assert f"power mean at p = {label}" in explorer.formula.value and explorer.message.value == ""
        seen.append(middle)
    assert all(np.all(a <= b + 1e-12) for a, b in zip(seen, seen[1:]))     # it only climbs
    explorer.controls["region"].value = 3
    assert explorer.picture.grids[1].values.shape == (2, 2)
    assert "holds 8, 6, 5, 1, 8, 6, 6, 5, 5" in explorer.formula.value


def test_lp_explorer_draws_its_three_outputs_on_the_input_s_colour_scale():
    explorer = W.lp_explorer()
    colours = [g.cells.get_clim() for g in explorer.picture.grids]
    assert len(set(colours)) == 1


def test_downsample_explorer_pools_or_convolves_and_says_what_it_costs():
    explorer = W.downsample_explorer()
    x = W.small_input(6).astype(float)
    for way in [value for _, value in W.WAYS]:
        explorer.controls["way"].value = way
        for k, s in [(2, 2), (3, 2), (2, 1), (3, 3)]:
            explorer.controls["size"].value, explorer.controls["stride"].value = k, s
            out = explorer.picture.grids[-1].values
            if way in ("max", "avg"):
                expected = (pl.max_pool2d if way == "max" else pl.avg_pool2d)(x, k, s)
            else:   # the convolution written out, window by window
                kernel = W.downsample_kernel(way, k)
                n = (6 - k) // s + 1
                expected = np.array([[np.sum(x[i * s:i * s + k, j * s:j * s + k] * kernel)
                                      for j in range(n)] for i in range(n)])
            np.testing.assert_allclose(out, expected, atol=1e-12)
            text = explorer.formula.value
            assert explorer.message.value == "" and f"= {(6 - k) // s + 1}." in text
            learned = f"16·16·{k}·{k} + 16 = <b>{16 * 16 * k * k + 16:,} parameters"
            assert (learned in text) == (way not in ("max", "avg"))
            assert ("no parameters" in text) == (way in ("max", "avg"))
            assert ("The same numbers as average pooling" in text) == (way == "uniform")
    explorer.controls["way"].value = "edge"
    explorer.controls["size"].value, explorer.controls["stride"].value = 3, 2
    assert "5·(−1)" in explorer.formula.value and "<b>−1</b>" in explorer.formula.value
    with pytest.raises(ValueError, match="way must be"):
        W.downsample_kernel("median", 2)


# --- invariance and aliasing (notebook 13) -------------------------------------------------------

def direct_edges(image):
    """ReLU of the 3 x 3 edge kernel (+1 left column, −1 right), zero padding 1: window by window."""
    padded = np.pad(np.asarray(image, float), 1)
    kernel = np.array([[1, 0, -1]] * 3)
    return np.array([[max(np.sum(padded[i:i + 3, j:j + 3] * kernel), 0.0)
                      for j in range(image.shape[1])] for i in range(image.shape[0])])


def test_shift_explorer_redraws_and_counts_what_a_direct_computation_counts():
    from pooling_lib.cnn.data import load_digits_split, shift
    from pooling_lib.cnn.nn import MaxBlurPool
    explorer = W.shift_explorer()
    assert explorer.value("digit") == 1 and explorer.value("right") == 1
    changes_redraw(explorer, [("right", 2), ("down", -1), ("pooling", "blur"), ("digit", 5),
                              ("right", -2)], formula_names=("right", "down", "pooling", "digit"))
    sheets = np.pad(load_digits_split()[2][:, 0], ((0, 0), (4, 4), (4, 4)))
    for k, dy, dx, pooling in [(1, 0, 1, "max"), (5, -1, 2, "blur"), (7, 1, -1, "max"),
                               (7, 2, -2, "blur")]:
        for name, value in [("digit", k), ("down", dy), ("right", dx), ("pooling", pooling)]:
            explorer.controls[name].value = value
        pool = (lambda m: pl.max_pool2d(m, 2)) if pooling == "max" else MaxBlurPool().forward
        moved = pool(direct_edges(shift(sheets[k], dy, dx)))
        still = shift(pool(direct_edges(sheets[k])), int(dy / 2), int(dx / 2))
        counted = int(((moved > 0) | (still > 0)).sum())
        differ = int((~np.isclose(moved, still)).sum())
        change = np.linalg.norm(moved - still) / np.linalg.norm(still)
        text = explorer.formula.value
        assert f"<b>{differ} of the {counted}</b>" in text and f"= <b>{change:.0%}</b>" in text
        assert ("half a cell" in text) == bool(dy % 2 or dx % 2) and explorer.message.value == ""
        np.testing.assert_allclose(explorer.picture.shown[2].get_array(), moved)
        np.testing.assert_allclose(explorer.picture.shown[3].get_array(), still)


def test_a_move_by_a_whole_window_keeps_every_pooled_number():
    pattern = np.zeros((12, 12))
    pattern[4:8, 4:7] = [[1, 3, 0], [2, 5, 1], [0, 4, 2], [1, 1, 3]]   # far from the border
    for pooling in ("max", "blur"):
        for dy, dx in [(0, 2), (2, 0), (-2, 2), (2, -2)]:
            differ, counted, change = W.pooled_change(*W.moved_pooling(pattern, dy, dx, pooling))
            assert differ == 0 and counted > 0 and change == 0, (pooling, dy, dx)
        differ, counted, change = W.pooled_change(*W.moved_pooling(pattern, 0, 1, pooling))
        assert differ > 0 and change > 0
    explorer = W.shift_explorer(images=pattern[None], index=0, right=2)
    assert "<b>0 of the" in explorer.formula.value and "= <b>0%</b>" in explorer.formula.value
    assert "moved 1 cell right" in explorer.formula.value
    with pytest.raises(ValueError, match="pooling must be"):
        W.pool_map(pattern, "avg")


def test_shift_words_and_cells():
    assert W.move_words(1, -2) == "1 pixel down, 2 pixels left" and W.move_words(0, 0) == "not moved"
    assert W.move_words(-0.5, 1, "cell") == "half a cell up, 1 cell right"
    assert [W.whole_cells(d) for d in (-3, -2, -1, 0, 1, 2, 3)] == [-1, -1, 0, 0, 0, 1, 1]
    assert W.on_sheet(np.ones((3, 8, 8))).shape == (3, 16, 16)
    np.testing.assert_allclose(W.edges(np.eye(5)), direct_edges(np.eye(5)))


# --- receptive fields (notebook 14) --------------------------------------------------------------

def test_receptive_field_explorer_redraws_and_shows_the_field():
    from pooling_lib.receptive_field import footprints, receptive_field
    explorer = W.receptive_field_explorer()
    changes_redraw(explorer, [("row", 0), ("col", 0), ("size", 20),
                              ("stack", list(W.STACKS)[3]), ("col", 2)],
                   formula_names=("row", "col", "stack"))
    for name, steps in W.STACKS.items():
        for size, cell in [(16, (0, 1)), (15, (1, 0)), (20, (2, 2))]:
            explorer.controls["stack"].value, explorer.controls["size"].value = name, size
            explorer.controls["row"].value, explorer.controls["col"].value = cell
            chosen = (explorer.value("row"), explorer.value("col"))   # the sliders stop at the edge
            assert explorer.message.value == "" and chosen[0] <= cell[0] and chosen[1] <= cell[1]
            region = receptive_field(steps, chosen, (size, size))
            (r0, r1), (c0, c1) = region
            assert (f"sees input rows {r0}&ndash;{r1} and columns {c0}&ndash;{c1}: a "
                    f"{region.height} &times; {region.width} field") in explorer.formula.value
            grids = explorer.picture.grids
            assert len(grids) == len(steps) + 1
            for grid, (rows, cols) in zip(grids, footprints(steps, chosen, (size, size))):
                np.testing.assert_array_equal(grid.values, np.outer(rows, cols))


def test_receptive_field_explorer_formula_and_limits():
    explorer = W.receptive_field_explorer(size=16, cell=(1, 1))
    assert "1 + 2·1 + 1·1 + 2·2 + 1·2 = <b>10</b>" in explorer.formula.value
    assert explorer.controls["row"].max == explorer.controls["col"].max == 1      # 16 -> 2 x 2
    explorer.controls["stack"].value = list(W.STACKS)[0]                         # 16 -> 10 x 10
    assert explorer.controls["row"].max == 9 and "= <b>7</b>" in explorer.formula.value
    explorer.controls["stack"].value = list(W.STACKS)[4]
    explorer.controls["size"].value = 8
    explorer.controls["row"].value = explorer.controls["col"].value = 0
    assert "cut by the edge (away from the edges: 4 &times; 4)" in explorer.formula.value
    width, _ = explorer.picture.get_size_inches()
    assert width <= W.FIELD_INCHES + 1


def test_receptive_field_explorer_too_small_an_input_is_a_message_not_an_error():
    explorer = W.receptive_field_explorer()
    png = explorer.png
    explorer.controls["size"].value = 6           # conv, pool, conv, pool: nothing is left
    assert "too small for this stack" in explorer.message.value
    assert "make it bigger" in explorer.message.value and explorer.png != png   # faded
    explorer.controls["size"].value = 12
    assert explorer.message.value == ""
