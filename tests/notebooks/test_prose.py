"""The numbers written into the notebooks' markdown, checked against pooling_lib.

Most numbers a notebook mentions come from a code cell right above the text. Some stay literal
in the prose (a worked example, a count, a figure quoted in a summary): each test below finds
its cell by a distinctive phrase, computes the numbers with pooling_lib, and checks that the
text says them. When a test fails, either the text or the code has changed: make them agree.
"""
import re
from functools import cache
from pathlib import Path

import nbformat
import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib.course.figures import EXAMPLE
from pooling_lib.course.widgets import small_input

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 9: "nine"}


@cache
def markdown(stem):
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def cell(stem, phrase):
    """The one markdown cell of notebook ``stem`` that contains ``phrase``."""
    found = [source for source in markdown(stem) if phrase in source]
    assert len(found) == 1, f"{stem}: {len(found)} markdown cells contain {phrase!r}"
    return found[0]


def flat(text):
    """The text with every run of whitespace (line breaks too) as one space."""
    return re.sub(r"\s+", " ", text)


def says(text, *sentences):
    for sentence in sentences:
        assert flat(sentence) in flat(text), f"the text no longer says {sentence!r}"


def pools_of_cell(x, pool, stride, cell):
    """(pools the input ``cell`` sits in, pools it wins), pools numbered from 0 in reading order."""
    out, winners = pl.max_pool2d(x, pool, stride, return_indices=True)
    r, c = cell
    inside = [n for n, (i, j) in enumerate(np.ndindex(out.shape))
              if i * stride <= r < i * stride + pool and j * stride <= c < j * stride + pool]
    won = [n for n in inside if winners.flat[n] == r * x.shape[1] + c]
    return inside, won


# --- 01 · Convolution and feature maps ---------------------------------------------------------

def test_01_the_digit_the_kernels_and_the_maps():
    from pooling_lib.cnn.data import load_digits_split
    from pooling_lib.cnn.nn import Conv2D, make_cnn
    image = load_digits_split()[0][6, 0] * 16
    assert image.shape == (8, 8) and image.min() == 0 and image.max() == 16
    says(cell("01_convolution_and_feature_maps", "## An image is a grid of numbers"),
         "8 × 8 pixels, from 0 (paper) to 16 (ink)")
    kernels = [layer.weight.shape[0] for layer in make_cnn("max").layers if isinstance(layer, Conv2D)]
    says(cell("01_convolution_and_feature_maps", "## A layer has many kernels"),
         f"the network of notebook 10 learns {kernels[0]}")
    maps = pl.max_pool2d(np.zeros((4, 8 - 3 + 1, 8 - 3 + 1)), 2)
    says(cell("01_convolution_and_feature_maps", "The 4 maps stay 4 maps"), f"The {len(maps)} maps stay {len(maps)} maps")
    says(cell("01_convolution_and_feature_maps", "## Slide, multiply, add"), "Here is window `(2, 1)`")


# --- 02 · Regions and strides -----------------------------------------------------------------

def test_02_pool_counts_of_the_running_example():
    nine, four = pl.max_pool2d(EXAMPLE, 2, 1), pl.max_pool2d(EXAMPLE, 2, 2)
    says(cell("02_regions_and_strides", "## Region 2×2, stride 1"),
         f"it fits in {pl.pool_output_size(4, 2, 1)} positions across and "
         f"{pl.pool_output_size(4, 2, 1)} down: **{nine.size} pools**, a 3×3 output")
    says(cell("02_regions_and_strides", "## Same region, stride 2"),
         f"{pl.pool_output_size(4, 2, 2)} positions across, 2 down, **{four.size} pools**, a 2×2 output")
    assert four.size / EXAMPLE.size == 1 / 4  # "A quarter of the numbers are left."
    assert f"({', '.join(map(str, nine.ravel()))})" in cell("02_regions_and_strides", "maxpooling_1.png")
    assert f"({', '.join(map(str, four.ravel()))})" in cell("02_regions_and_strides", "maxpooling_2.png")
    says(cell("02_regions_and_strides", "## What you learned"),
         f"{nine.size} overlapping pools at stride 1 and {four.size} separate pools at stride 2")


def test_02_the_cells_of_row_1_and_their_pools():
    text = cell("02_regions_and_strides", "each show up twice in the output")
    (six_in, six_won), (seven_in, seven_won), (eight_in, eight_won) = (
        pools_of_cell(EXAMPLE, 2, 1, (1, c)) for c in (1, 2, 3))
    assert EXAMPLE[1, 1:].tolist() == [6, 7, 8] and len(six_in) == len(seven_in)
    assert len(six_won) == len(seven_won)
    says(text, f"The 6 and the 7 sit in **{WORDS[len(six_in)]}** pools each and win "
               f"{WORDS[len(six_won)]} of them",
         f"The 8 sits on the edge, in only **{WORDS[len(eight_in)]}** pools, and wins both")
    assert len(eight_won) == len(eight_in) == 2
    # "the other two go to the larger cell on their right"
    for col, (inside, won) in ((1, (six_in, six_won)), (2, (seven_in, seven_won))):
        lost = [n for n in inside if n not in won]
        assert len(lost) == 2 and all(pl.max_pool2d(EXAMPLE, 2, 1).flat[n] == EXAMPLE[1, col + 1]
                                      for n in lost)
    # each shows up twice in the output
    assert [int((pl.max_pool2d(EXAMPLE, 2, 1) == v).sum()) for v in (6, 7, 8)] == [2, 2, 2]


def test_02_output_size_worked_examples():
    says(cell("02_regions_and_strides", "## How many windows fit?"),
         "starts at 0, 2 and 4, so", f"⌊(7 − 3) / 2⌋ + 1 = {pl.pool_output_size(7, 3, 2)} windows")
    assert [2 * i for i in range(pl.pool_output_size(7, 3, 2))] == [0, 2, 4]
    says(cell("02_regions_and_strides", "## When the sizes do not divide"),
         f"(5 − 2) / 2 = {(5 - 2) / 2}", f"⌊1.5⌋ + 1 = {pl.pool_output_size(5, 2, 2)} windows per axis",
         "A third window would start at cell 4")
    text = cell("02_regions_and_strides", "No window reads the bottom row")
    x5 = small_input(5)
    out = pl.max_pool2d(x5, 2, 2)
    assert pl.max_pool2d(x5[:4, :4], 2, 2).tolist() == out.tolist()  # the last row/column unread
    assert 8 in x5[4] and 7 in x5[:, 4] and 8 in out and 8 in x5[:4, :4]
    says(text, "their 8 and 7 never reach the output", f"here that is {(5 - 2) / 2 + 1}, not a size")


# --- 05 · The backward pass ---------------------------------------------------------------------

def test_05_winners_receive_their_windows_gradient():
    grad = np.array([[1.0, 2.0], [3.0, 4.0]])
    dx = pl.max_pool2d_backward(grad, EXAMPLE, 2, 2)
    text = cell("05_backward_pass", "The 6 at `x[1, 1]` won window `(0, 0)`")
    assert EXAMPLE[1, 1] == 6 and dx[1, 1] == grad[0, 0] == 1
    received = {int(EXAMPLE[i, j]): int(dx[i, j]) for i, j in zip(*np.nonzero(dx))}
    assert received == {6: 1, 8: 2, 3: 3, 4: 4} and dx[3, 3] == 4
    says(text, "the 8 receives 2, the 3 receives 3, the 4 in the corner receives 4",
         f"The {WORDS.get(int((dx == 0).sum()), 'twelve')} other cells")
    assert int((dx == 0).sum()) == 12


def test_05_the_pictures_send_ones_and_the_arrays_the_upstream_gradient():
    says(cell("05_backward_pass", "The picture keeps the arithmetic simple"),
         "**every output cell sends 1**",
         "`pl.max_pool2d_backward(np.ones((2, 2)), x, 2, 2)`")
    avg = pl.avg_pool2d_backward(np.array([[1.0, 2.0], [3.0, 4.0]]), (4, 4), 2, 2)
    ones = pl.avg_pool2d_backward(np.ones((2, 2)), (4, 4), 2, 2)
    assert np.all(ones == 1 / 4)
    assert sorted(set(avg.ravel() * 4)) == [1, 2, 3, 4]
    says(cell("05_backward_pass", "In the picture every output cell sends 1 again"),
         "each cell of a window gets 1/4", "1/4, 2/4, 3/4 and 4/4")


def test_05_the_peak_and_the_assignment_bug():
    peak = np.array([[3, 1, 0, 2, 3], [1, 3, 1, 4, 0], [1, 0, 9, 4, 2], [3, 3, 0, 0, 2],
                     [0, 3, 0, 0, 0]])
    ones = np.ones((3, 3))
    total = pl.max_pool2d_backward(ones, peak, 3, 1)
    says(cell("05_backward_pass", "## 3 · Overlapping windows add up"),
         f"There are 3 × 3 = {ones.size} windows", f"**the peak gets {int(total[2, 2])}**")
    says(cell("05_backward_pass", "The outputs send 9 units of gradient"),
         f"The outputs send {int(ones.sum())} units", "the peak gets 1 and **8 of the 9 units are lost**")


def test_06_gradient_checks():
    from pooling_lib.course.widgets import distinct_input
    values = distinct_input(5) * 0.1
    g = np.random.default_rng(0).normal(size=(4, 4))
    error = pl.relative_error(pl.numerical_gradient(lambda v: pl.max_pool2d(v, 2, 1), values, g),
                              pl.max_pool2d_backward(g, values, 2, 1))
    assert 1e-11 < error < 1e-9
    says(cell("06_ties_and_gradient_checks", "They agree to about ten digits"), "about ten digits")
    three = np.array([[7.0, 7.0], [7.0, 1.0]])
    numeric = pl.numerical_gradient(lambda v: pl.max_pool2d(v, 2, 2), three, np.ones((1, 1)))
    split = pl.max_pool2d_backward(np.ones((1, 1)), three, 2, 2, ties="split")
    assert np.allclose(numeric[three == 7], 0.5) and np.allclose(split[three == 7], 1 / 3)
    says(cell("06_ties_and_gradient_checks", "With three tied cells the numerical slope"),
         "still 1/2 on each, but `split` gives 1/3")
    two = np.array([[3.0, 7.0], [7.0, 1.0]])
    numeric_two = pl.numerical_gradient(lambda v: pl.max_pool2d(v, 2, 2), two, np.ones((1, 1)))
    assert np.isclose(numeric.sum(), 1.5) and np.isclose(numeric_two.sum(), 1.0)
    says(cell("06_ties_and_gradient_checks", "Speaker notes: ask why the numerical gradient at a tie"),
         "sums to 1.5 with three tied cells (and 1 with two)")


# --- 07 · Padding and output size ---------------------------------------------------------------

X5 = small_input(5)


def test_07_padding_worked_examples():
    says(cell("07_padding_and_output_size", "### In average pooling, who counts in the divisor?"),
         "holds 4 real cells and 5 padding cells")
    window = np.pad(X5, 1)[:3, :3]
    assert np.count_nonzero(np.pad(np.ones((5, 5)), 1)[:3, :3]) == 4
    corner = int(window.sum())
    assert corner == 8 + 6 + 1 + 8
    with_pad = pl.avg_pool2d(X5, 3, 2, 1)
    without = pl.avg_pool2d(X5, 3, 2, 1, count_include_pad=False)
    says(cell("07_padding_and_output_size", "The corner: (8 + 6 + 1 + 8)"),
         f"(8 + 6 + 1 + 8) / 9 ≈ {with_pad[0, 0]:.2f} against (8 + 6 + 1 + 8) / 4 = {without[0, 0]:.2f}",
         f"both agree there ({with_pad[1, 1]:.2f})")
    assert with_pad[1, 1] == without[1, 1]
    # "a zero-padded max would have put 0 on the whole border"
    shifted = X5 - 10
    zero_padded = pl.max_pool2d(np.pad(shifted, 1), 3, 2)
    border = np.ones((3, 3), bool)
    border[1, 1] = False
    assert shifted.max() < 0 and np.all(zero_padded[border] == 0)
    assert np.all(pl.max_pool2d(shifted, 3, 2, 1) < 0)


def test_07_padding_is_at_most_half_the_pool():
    text = cell("07_padding_and_output_size", "### Padding is at most half the pool")
    for pool, most in ((3, 1), (2, 1), (5, 2)):
        pl.max_pool2d(np.ones((8, 8)), pool, 1, most)
        with pytest.raises(ValueError, match="at most half the pool size"):
            pl.max_pool2d(np.ones((8, 8)), pool, 1, most + 1)
    says(text, "a 3 × 3 pool takes `P ≤ 1`, a 2 × 2 pool too, a 5 × 5 pool `P ≤ 2`",
         "A 2 × 2 pool with `P = 2` even gets a window of padding only")
    for F in range(1, 8):  # first window: P padding cells and F - P real ones along an axis
        for P in range(F + 1):
            real = np.pad(np.ones(10), P)[:F].sum()
            assert real == F - P
            assert (real >= P) == (P <= F // 2)      # "Up to F // 2, real >= padding"
            assert (real == 0) == (P >= F)          # padding only from P = F
    assert np.pad(np.ones(10), 2)[:2].sum() == 0      # 2 × 2 with P = 2: padding only
    assert all(np.pad(np.ones(10), F // 2 + 1)[:F].sum() >= 1 for F in (3, 5, 7))


def test_07_same_ceil_mode_and_dilation_worked_examples():
    says(cell("07_padding_and_output_size", "## 'valid' and 'same' (Keras' names)"),
         f"`ceil(5 / 2) = {pl.pool_output_size(5, 2, 2, padding='same')}` windows",
         f"`(3 − 1)·2 + 2 − 5 = {(3 - 1) * 2 + 2 - 5}` padding cell")
    says(cell("07_padding_and_output_size", "## ceil_mode: keep the last, partial window"),
         f"`floor((3 − 2) / 2) + 1 = {pl.pool_output_size(3, 2, 2)}`",
         f"`ceil((3 − 2) / 2) + 1 = {pl.pool_output_size(3, 2, 2, ceil_mode=True)}`")
    says(cell("07_padding_and_output_size", "### …but the last window must start inside the input"),
         "`ceil((4 + 2 − 2) / 3) + 1 = 3`", f"`2·3 − 1 = {2 * 3 - 1}`",
         f"`out = {pl.pool_output_size(4, 2, 3, 1, ceil_mode=True)}`, not 3")
    says(cell("07_padding_and_output_size", "## Dilation: taps with gaps"),
         f"`eff = 2·(2 − 1) + 1 = {2 * (2 - 1) + 1}` cells")
    assert pl.pool_output_size(10, 2, 3, dilation=2) == pl.pool_output_size(10, 3, 3)
    says(cell("07_padding_and_output_size", "The padded row has 7 + 2·1"), "7 + 2·1 = 9 cells")


# --- 08 · Global and adaptive pooling, unpooling ------------------------------------------------

def test_08_adaptive_bins():
    from pooling_lib.adaptive import bins
    text = cell("08_global_adaptive_and_unpooling", "## Adaptive pooling: you choose the output size")
    assert bins(6, 3) == [(2 * i, 2 * i + 2) for i in range(3)]
    shared = sorted(c for c in range(5) if sum(a <= c < b for a, b in bins(5, 3)) == 2)
    says(text, "6 cells into 3 bins: pool 2, stride 2",
         f"5 cells into 3 bins share cells {shared[0]} and {shared[1]}")
    out = pl.adaptive_max_pool2d(X5, 3)
    text = cell("08_global_adaptive_and_unpooling", "covers the rows of bin `i` and the columns of bin `j`")
    (r0, r1), col_bins = bins(5, 3)[0], bins(5, 3)
    says(text, f"output row 0 reads input rows {r0} and {r1 - 1}: {', '.join(map(str, out[0]))}",
         "the 9 at `x[1, 3]` wins both")
    assert X5[1, 3] == 9 and [b for b in col_bins if b[0] <= 3 < b[1]] == col_bins[1:]
    assert all(X5[r0:r1, a:b].max() == 9 and np.sum(X5[r0:r1, a:b] == 9) == 1
               for a, b in col_bins[1:])
    assert np.array_equal(out, pl.max_pool2d(X5, 3, 2, 1))


def test_08_unpooling_index():
    _, indices = pl.max_pool2d(X5, 2, 2, return_indices=True)
    assert 8 in indices and X5[8 // 5, 8 % 5] == 9
    says(cell("08_global_adaptive_and_unpooling", "Index 8 is row 8 // 5"),
         "Index 8 is row 8 // 5 = 1, column 8 % 5 = 3: the 9 at `x[1, 3]`")


# --- 09 · Fast pooling ----------------------------------------------------------------------------

def test_09_counts_and_constants():
    from pooling_lib import _engine, im2col
    from pooling_lib.course import benchmark
    windows = pl.max_pool2d(np.zeros((1, 8, 32, 32)), 2, 2).size
    says(cell("09_fast_pooling", "The same 2048 numbers"), f"The same {windows} numbers",
         "Calls shorter than a millisecond are run in batches")
    assert benchmark.SAMPLE == 1e-3
    says(cell("16_appendix_inside_pooling_lib", "On the 1×8×32×32 input it is still four slices"),
         f"each holding {windows} numbers")
    columns = im2col.im2col(EXAMPLE, 2, stride=1)
    says(cell("09_fast_pooling", "Column 0 is window (0, 0)"),
         f"read row by row: {', '.join(map(str, columns[:, 0]))}.")
    grad = pl.max_pool2d_backward(np.ones((3, 3)), EXAMPLE, 2, 1)
    assert [grad[EXAMPLE == v].tolist() for v in (6, 7, 8)] == [[2.0], [2.0], [2.0]]
    says(cell("09_fast_pooling", "6, 7 and 8 each win two windows"),
         "6, 7 and 8 each win two windows, so each collects 2")
    says(cell("09_fast_pooling", "### The price: copies"),
         f"one copy for 2×2 at stride 2, {9 / 4:g} for 3×3 at stride 2, {9 / 1:g} for 3×3 at stride 1")
    assert 16 * 16 - 1 == np.iinfo(np.uint8).max
    says(cell("16_appendix_inside_pooling_lib", "### Which tap won"), "for windows up to 16 × 16 it fits in one byte")
    says(cell("16_appendix_inside_pooling_lib", "### Two more steps in the real thing"),
         f"Up to {_engine.SMALL} cells ({_engine.SMALL_MAX} for max pooling)", "2k slices instead of k²",
         f"From {_engine.PARALLEL_BYTES >> 20} MiB on, the chunks go to a few threads")
    growth = pl.pool_output_size(64, 3, 1) ** 2 / pl.pool_output_size(8, 3, 1) ** 2
    assert 90 < growth < 110
    says(cell("09_fast_pooling", "Try size 8 and then 64"), "grows about 100 times")


def test_09_the_prose_quotes_no_timing():
    """Timings come from the code cells of the run (with their units and settings), never from
    the text: no number with a unit of time, no "a few microseconds". (The one duration left,
    median_time's batching threshold, is a setting, checked above against benchmark.SAMPLE.)"""
    unit = re.compile(r"\d\s*(ns|µs|us|ms|s)\b|\b(nano|micro|milli)seconds?\b")
    for source in markdown("09_fast_pooling"):
        source = source.replace("Calls shorter than a millisecond", "")
        assert not unit.search(source), f"a timing in the prose: {source[:80]!r}"


# --- 10 and 11 · A CNN with pooling, what pooling changes --------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained():
    """The three networks of notebook 10, trained as the notebook trains them (about 6 s)."""
    from pooling_lib.cnn import nn
    from pooling_lib.cnn.data import load_digits_split
    x_train, y_train, x_test, y_test = load_digits_split()
    nets, histories = {}, {}
    for pooling in ("max", "avg", None):
        nets[pooling] = nn.make_cnn(pooling)
        histories[pooling] = nn.train(nets[pooling], x_train, y_train, test=(x_test, y_test))
    return nets, histories, (x_train, y_train, x_test, y_test)


def test_10_data_and_network_sizes():
    from pooling_lib.cnn import nn
    from pooling_lib.cnn.data import load_digits_split
    x_train, _, x_test, _ = load_digits_split()
    total = len(x_train) + len(x_test)
    says(cell("10_cnn_with_pooling", "## 1 · Real handwritten digits"),
         f"**{total:,} scans of 8 × 8 pixels**", f"keeps {len(x_test) / total:.0%} of the digits aside")
    conv, _, _, _, dense = nn.make_cnn("max").layers
    says(cell("10_cnn_with_pooling", "The convolution has 16 × 1 × 3 × 3"),
         f"16 × 1 × 3 × 3 = {conv.weight.size} weights and {conv.bias.size} biases: "
         f"**{conv.weight.size + conv.bias.size}**",
         f"256 × 10 weights and 10 biases: **{dense.weight.size + dense.bias.size:,}**")
    batches = -(-len(x_train) // nn.BATCH_SIZE)
    says(cell("10_cnn_with_pooling", "## 3 · Training"),
         f"{nn.EPOCHS} **epochs** (passes over the {len(x_train):,} training digits), each in "
         f"{batches} batches of {nn.BATCH_SIZE}, learning rate {nn.LEARNING_RATE:g}")
    with_pool, without = nn.count_parameters(nn.make_cnn("max")), nn.count_parameters(nn.make_cnn(None))
    extra = without - with_pool
    assert 3.5 < without / with_pool < 4                       # "Almost four times as many"
    says(cell("11_what_pooling_changes", "Almost four times as many"), f"The {extra:,} extra")
    dense_without = nn.make_cnn(None).layers[-1]
    assert round(dense_without.weight.size / dense.weight.size) == 4
    says(cell("10_cnn_with_pooling", "A quarter as many numbers reach the dense layer"),
         f"{dense.weight.shape[0]} instead of {dense_without.weight.shape[0]:,}")
    says(cell("10_cnn_with_pooling", "## What you learned"), f"after {nn.EPOCHS} epochs",
         "shrinks each of the 16 feature maps from 8 × 8 to 4 × 4")
    assert conv.weight.shape[0] == 16 and pl.max_pool2d(np.zeros((8, 8)), 2).shape == (4, 4)
    says(cell("11_what_pooling_changes", "## What you learned"),
         f"{with_pool:,} parameters in all instead of {without:,}")


def test_11_the_race_is_described_as_it_runs():
    from pooling_lib.cnn import compare, nn
    from pooling_lib.cnn.data import load_digits_split
    x_train, y_train, _, _ = load_digits_split()
    x_fit, _, x_val, _ = compare.split_validation(x_train, y_train)
    rates, seeds = compare.LEARNING_RATES, compare.SEEDS
    says(cell("11_what_pooling_changes", "### A fair race"),
         f"It sets {len(x_val)} of the {len(x_train):,} training digits aside",
         f"the other {len(x_fit):,}",
         f"tries {WORDS[len(rates)]} learning rates, from {min(rates):g} to {max(rates):g}",
         f"each with seeds {', '.join(map(str, seeds[:-1]))} and {seeds[-1]}",
         f"That makes {len(compare.POOLINGS) * len(rates) * len(seeds)} trainings",
         f"each one runs {compare.EPOCHS_RACE} epochs instead of {nn.EPOCHS}")


def test_10_11_results_quoted_in_the_prose(trained):
    from pooling_lib.cnn import nn
    from pooling_lib.cnn.data import shift
    nets, histories, (_, _, x_test, y_test) = trained
    correct = {p: int(np.sum(nn.predict(net, x_test) == y_test)) for p, net in nets.items()}
    acc = {p: c / len(y_test) for p, c in correct.items()}
    history = histories["max"]
    test_curve = history["test_accuracy"]
    first = next(k for k, a in enumerate(test_curve) if a >= 0.97)
    says(cell("10_cnn_with_pooling", "Both losses fall fast"),
         f"Test accuracy passes 97% at epoch {first + 1}",
         f"wobbles between {min(test_curve[first:]):.1%} and {max(test_curve[first:]):.1%}",
         f"ends at {test_curve[-1]:.1%}", f"Training accuracy ends higher "
         f"({history['train_accuracy'][-1]:.1%})")
    predictions = nn.predict(nets["max"], x_test)
    wrong = np.flatnonzero(predictions != y_test)
    as_one = sorted(y_test[wrong][predictions[wrong] == 1].tolist())
    assert as_one == [2, 6, 8, 8] and predictions[15] == 1 and y_test[15] == 8
    says(cell("10_cnn_with_pooling", "mistakes out of 360"),
         f"{WORDS[len(wrong)].capitalize()} mistakes out of {len(y_test)}, and "
         f"{WORDS[len(as_one)]} of them are called a 1: two 8s, a 6 and a 2", "digit 15 (an 8)")
    says(cell("11_what_pooling_changes", "- **Accuracy**:"),
         f"{acc['max']:.1%} against {acc[None]:.1%}, "
         f"{WORDS[correct['max'] - correct[None]]} digits out of {len(y_test)}")
    says(cell("11_what_pooling_changes", "At the same settings average pooling trails"),
         f"by {correct['max'] - correct['avg']} test digits")
    moved = {p: np.mean([nn.accuracy(net, shift(x_test, dy, dx), y_test)
                         for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))]) for p, net in nets.items()}
    assert moved["max"] > moved[None] and moved["avg"] > moved[None]
    says(cell("11_what_pooling_changes", "A single pixel costs every network a lot"),
         f"{moved['max']:.1%} for max pooling against {moved[None]:.1%}")
    says(cell("10_cnn_with_pooling", "## What you learned"), f"reads {acc['max']:.1%} of the test digits")
    says(cell("11_what_pooling_changes", "## What you learned"),
         f"{moved['max']:.1%} with max pooling against {moved[None]:.1%} without")


def test_11_pooled_numbers_that_survive_a_move(trained):
    from pooling_lib.cnn import nn
    from pooling_lib.cnn.data import shift
    nets, _, (_, _, x_test, _) = trained

    def maps(images):
        _, (_, before), (_, after), *_ = nn.activations(nets["max"], images)
        return before, after

    def kept(still, moved):
        counted = (still > 0) | (moved > 0)
        return np.isclose(still, moved)[counted].mean()

    before, after = maps(x_test)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        moved_before, moved_after = maps(shift(x_test, dy, dx))
        assert kept(before, moved_before) < 0.05          # "almost every number changes"
        assert 0.2 <= kept(after, moved_after) <= 0.3     # "about a quarter stay"
        counted = ((after > 0) | (moved_after > 0)) & ~np.isclose(after, moved_after)
        change = np.abs(after - moved_after)[counted] / np.maximum(after, moved_after)[counted]
        assert (change < 0.25).sum() / ((after > 0) | (moved_after > 0)).sum() > 0.1  # "some"
    says(cell("11_what_pooling_changes", "The dense layer reads every position with its own weights"),
         "Before pooling almost every number changes", "about a quarter stay exactly as they were",
         "some others change by less than 25%")


# --- 13 · Invariance and its limits --------------------------------------------------------------

NB13 = "13_invariance_and_aliasing"


def test_13_the_sheet_the_moves_and_the_blur():
    from pooling_lib.cnn.data import load_digits_split
    from pooling_lib.course import widgets
    x_test = load_digits_split()[2]
    assert widgets.on_sheet(x_test[:, 0]).shape[1:] == (16, 16)
    assert widgets.downsample_kernel("edge", 3).shape == (3, 3)
    says(cell(NB13, "## 1 · The convolution moves with the digit"), f"the {len(x_test)} test digits",
         "a blank 16 × 16 sheet", "a fixed 3 × 3 edge kernel")
    assert [widgets.whole_cells(d) for d in (1, 2)] == [0, 1]
    assert pl.max_pool2d(np.zeros((4, 4)), 2).shape == (2, 2)      # a cell per 2 × 2 window
    says(cell(NB13, "## 2 · Pooling moves on a coarser grid"), "one cell per window of 2 × 2 pixels",
         "A move of 2 pixels is one pooled cell", "none for 1 pixel, one for 2")
    spike = np.array([0, 0, 1.0, 0, 0])     # two averages of 2, the first padded: [1, 2, 1] / 4
    blurred = pl.avg_pool1d(pl.avg_pool1d(spike, 2, 1, padding=1), 2, 1)
    np.testing.assert_allclose(blurred, [0, 0.25, 0.5, 0.25, 0])
    says(cell(NB13, "### The fix: blur, then subsample"), "with weights [1, 2, 1] / 4",
         "the blur is two averages of 2, the first with a 0 of padding at each end")
    explorer = widgets.shift_explorer()
    down = explorer.controls["down"]
    assert (down.min, down.max) == (-2, 2) and explorer.value("digit") == 1
    assert (explorer.value("down"), explorer.value("right"), explorer.value("pooling")) == (0, 1, "max")
    says(cell(NB13, "## 4 · Move a digit yourself"), "by up to 2 pixels each way")
    says(cell(NB13, "![The shift explorer's first state"), "test digit 1 moved one pixel right")


def test_13_the_exercise_and_its_hint():
    from pooling_lib.course.exercises import blur_pool_steps
    maxima, _, pooled = blur_pool_steps([2, 0, 0, 8, 0, 4])
    says(cell(NB13, "## Your turn: max-blur pooling by hand"), "`[2, 0, 0, 8, 0, 4]`",
         f"the answer is {WORDS[len(pooled)]} numbers", f"the {WORDS[len(maxima)]} maxima",
         "places 0, 2 and 4")


def test_13_odd_moves_change_the_pooled_maps_and_the_blur_spreads_the_change():
    import ast
    from pooling_lib.cnn.data import load_digits_split
    from pooling_lib.course import widgets
    source = next(c.source for c in nbformat.read(NOTEBOOKS / f"{NB13}.ipynb", as_version=4).cells
                  if c.cell_type == "code" and "moves = [" in c.source)
    moves = ast.literal_eval(source.split("moves = ", 1)[1].splitlines()[0])
    sheet = widgets.on_sheet(load_digits_split()[2][:, 0])
    for dy, dx in moves:
        (d_max, c_max, max_change), (d_blur, c_blur, blur_change) = (
            widgets.pooled_change(*widgets.moved_pooling(sheet, dy, dx, p)) for p in ("max", "blur"))
        if dy % 2 or dx % 2:
            assert d_max / c_max > 0.5 and max_change > 0.3         # "change most ..., not by a little"
            assert d_blur / c_blur > 0.95 and blur_change < max_change
        else:
            assert d_max == d_blur == 0 and max_change == blur_change == 0
    says(cell(NB13, "Moves of 2 pixels change nothing"), "Moves of 1 pixel change most pooled numbers")
    says(cell(NB13, "With the blur, odd moves change almost every pooled number"),
         "the relative change is smaller for every odd move in the table", "Even moves stay exact with both")


def test_13_the_race_and_what_it_supports():
    from pooling_lib.cnn import compare
    assert compare.ONE_PIXEL == ((-1, 0), (1, 0), (0, -1), (0, 1))    # up, down, left, right
    says(cell(NB13, "## 5 · Does the network notice?"), f"{WORDS[len(compare.SEEDS)]} seeds each",
         "the mean over up, down, left and right")
    moved, moved_seeds, clean, _ = saved_output(NB13, "# NBVAL_CHECK_OUTPUT\nrows = ").splitlines()
    assert moved.startswith("kept its class when moved: +")
    assert moved_seeds.endswith("every blur seed above every max seed: True")
    points = float(clean.split(": ")[1].split(" points")[0])
    assert clean.startswith("test accuracy: ") and 0 <= points < 2      # "did not drop ... a little"
    says(cell(NB13, "What the race supports"),
         "more moved digits keep their predicted class, with every seed",
         "clean test accuracy did not drop; here it even rose a little")
    tuning = saved_output(NB13, "# NBVAL_CHECK_OUTPUT\nprint(\"mean validation").splitlines()[2:]
    for row in tuning:              # "each design does best inside the grid of rates"
        scores = [float(v.rstrip("%")) for v in row.split()[1:]]
        best = scores.index(max(scores))
        assert 0 < best < len(scores) - 1, row
    says(cell(NB13, "Each design does best inside the grid of rates"), "worse rates on either side")
    from pooling_lib.cnn.nn import MaxBlurPool
    assert len(MaxBlurPool().layers) == 3
    says(cell(NB13, "What the race supports"), "three pooling steps instead of one")


# --- 14 · Receptive fields -----------------------------------------------------------------------

def test_14_fields_quoted_in_the_prose():
    from pooling_lib.cnn.nn import Conv2D, MaxPool, make_cnn
    from pooling_lib.receptive_field import conv, field_sizes, layer_shapes, pool, receptive_field
    stem = "14_receptive_fields"
    two, three = (field_sizes([conv(3)] * n)[-1].size for n in (2, 3))
    says(cell(stem, "## Stacking convolutions"), f"together they cover {two} × {two} input cells")
    pooled = [conv(3), pool(2), conv(3), pool(2)]
    field, after = field_sizes(pooled)[-1], field_sizes(pooled + [conv(3)])[-1]
    says(cell(stem, "## Pooling multiplies the jump"),
         f"widens the field by only (2 − 1) · 1 = {field_sizes([pool(2)])[-1].size - 1} cell itself")
    says(cell(stem, "Two convolutions and two poolings reach"),
         f"reach {field.size} cells, three convolutions only {three}",
         f"adds (3 − 1) · {field.jump} = {after.size - field.size} cells at once, reaching {after.size}")
    says(cell(stem, "Speaker notes: in the pooled stack"),
         f"moves by {field.jump} input cells, the last jump, while it is {field.size} cells wide")
    # notebook 10's network: conv 3x3 with padding 1 on 8 x 8 digits, then 2 x 2 max pooling
    first, pooling = make_cnn("max").layers[0], make_cnn("max").layers[2]
    assert isinstance(first, Conv2D) and first.weight.shape[-1] == 3 and first.padding == 1
    assert isinstance(pooling, MaxPool)
    digits = [conv(3, padding=1), pool(2)]
    seen, corner = field_sizes(digits)[-1], receptive_field(digits, (0, 0), (8, 8))
    side = layer_shapes(digits, (8, 8))[-1][0]
    says(cell(stem, "A pooled cell sees a"),
         f"sees a {seen.size} × {seen.size} patch of the digit, half its width",
         f"cuts that to {corner.height} × {corner.width}",
         f"With a jump of {seen.jump}, the patches of neighbouring pooled cells overlap by "
         f"{seen.size - seen.jump} pixels", f"reads all {side} × {side} pooled cells")
    assert 2 * seen.size == 8
    (r0, r1), (c0, c1) = receptive_field(digits, (1, 2), (8, 8))   # what backpropagation reached
    says(cell(stem, "The cells reached are"), f"rows {r0} to {r1} and columns {c0} to {c1}")
    says(cell(stem, "## What you learned"), f"three 3 × 3 convolutions see {three} × {three}",
         f"a pooled cell sees {seen.size} × {seen.size} pixels of the 8 × 8 digit")
    # the explorer's picture, as its alt text describes it
    region = receptive_field(pooled, (1, 1), (16, 16))
    assert region == ((4, 13), (4, 13)) and layer_shapes(pooled, (16, 16))[-1] == (2, 2)
    says(cell(stem, "![The receptive field explorer's first state"),
         "output cell (1, 1) of the last 2 × 2 layer", f"a {region.height} × {region.width} block "
         "of the input, rows and columns 4 to 13")


# --- 15 · What replaces pooling ------------------------------------------------------------------

def saved_output(stem, start):
    """The stored text output of the one code cell of notebook ``stem`` whose source starts with
    ``start`` (nbval checks that a fresh run prints the same)."""
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    found = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)]
    assert len(found) == 1, f"{stem}: {len(found)} code cells start with {start!r}"
    return "".join(o.get("text", "") for o in found[0].outputs if o.output_type == "stream")


def test_15_the_strided_convolution_and_the_designs():
    from pooling_lib.cnn import compare, nn
    strided = nn.Conv2D(16, 16, 3, padding=1, stride=2)
    side = strided.forward(np.zeros((1, 16, 8, 8))).shape[-1]
    assert strided.weight.size == 16 * 16 * 9
    says(cell("15_what_replaces_pooling", "One 3 × 3 kernel for every pair"),
         "16 · 16 · 9 weights", f"floor((8 + 2·1 − 3) / 2) + 1 = {side}")
    says(cell("15_what_replaces_pooling", "Speaker notes: switch between"),
         f"{nn.Conv2D(16, 16, 2).weight.size + 16:,} parameters to learn at size 2")
    says(cell("15_what_replaces_pooling", "## What you learned"), "16 · 16 · 3 · 3 + 16 parameters")
    assert compare.DESIGNS["all-conv"] == ("strided", "global")
    last = nn.make_cnn("strided", head="global").layers[-2]
    assert last.weight.shape == (10, 16, 1, 1)    # "a 1 × 1 convolution to 10 maps, averaged"


def test_15_the_conclusion_is_what_the_race_printed():
    """The race's verdict, as the notebook stored it from its last clean run."""
    lines = dict(line.split(": ", 1) for line in
                 saved_output("15_what_replaces_pooling", "# NBVAL_CHECK_OUTPUT\nprint(compare.verdict").splitlines())
    table = saved_output("15_what_replaces_pooling", "# NBVAL_CHECK_OUTPUT\nprint(compare.format_table")
    parameters = {row.split()[0]: int(row.split()[2].replace(",", "")) for row in table.splitlines()[1:]}
    text = cell("15_what_replaces_pooling", "A strided convolution bought nothing here")
    assert "no clear difference" in lines["strided"]
    assert 1.7 < parameters["strided"] / parameters["max"] < 2                 # "nearly twice"
    says(text, "within the seeds' spread of max pooling's", "nearly twice the parameters")
    points = float(lines["all-conv"].split(" points")[0].replace("\u2212", "-"))
    assert round(-points) == 6 and "every seed below every seed of max" in lines["all-conv"]
    assert parameters["all-conv"] < parameters["max"]                         # "a few fewer"
    says(text, "lost about 6 points", "every seed below every seed of max pooling",
         "with a few parameters fewer")
