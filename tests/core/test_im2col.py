"""im2col and col2im against loops written from pooling_lib.reference's window geometry."""
import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib import im2col, reference
from pooling_lib.geometry import plan


def loop_im2col(x, pool_size, stride=None, padding=0, dilation=1, fill=0):
    """Column ``i * ow + j`` lists window (i, j)'s cells row by row; padding holds ``fill``."""
    rows, cols = plan(x.shape[-2:], pool_size, stride, padding, dilation)
    out = np.empty(x.shape[:-2] + (rows.pool * cols.pool, rows.out * cols.out))
    for p in np.ndindex(x.shape[:-2]):
        for i in range(rows.out):
            for j in range(cols.out):
                for a in range(rows.pool):
                    for b in range(cols.pool):
                        h = i * rows.stride - rows.pad_before + a * rows.dilation
                        w = j * cols.stride - cols.pad_before + b * cols.dilation
                        inside = 0 <= h < rows.size and 0 <= w < cols.size
                        out[p + (a * cols.pool + b, i * cols.out + j)] = x[p + (h, w)] if inside else fill
    return out


def loop_col2im(columns, shape, pool_size, stride=None, padding=0, dilation=1):
    """Add every column cell back onto its input cell (padding cells are dropped)."""
    rows, cols = plan(shape[-2:], pool_size, stride, padding, dilation)
    out = np.zeros(shape)
    for p in np.ndindex(shape[:-2]):
        for i in range(rows.out):
            for j in range(cols.out):
                cells = reference.window_cells(rows, cols, i, j)   # inside the input only
                for h, w in cells:
                    a = (h - i * rows.stride + rows.pad_before) // rows.dilation
                    b = (w - j * cols.stride + cols.pad_before) // cols.dilation
                    out[p + (h, w)] += columns[p + (a * cols.pool + b, i * cols.out + j)]
    return out


SETTINGS = [  # pool, stride, padding, dilation, input shape
    (2, 2, 0, 1, (4, 4)),             # tiles
    (3, 1, 0, 1, (5, 6)),             # overlapping
    (3, 2, 1, 1, (2, 7, 5)),          # padding, channels
    ((2, 3), (1, 2), 0, 1, (2, 2, 5, 7)),   # non-square window and stride, a batch
    ((3, 2), 2, (1, 1), 1, (6, 5)),   # non-square window with padding
    (2, 1, 0, 2, (6, 6)),             # dilation
]


@pytest.mark.parametrize("pool, stride, padding, dilation, shape", SETTINGS)
def test_im2col_matches_the_loop(pool, stride, padding, dilation, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    for fill in (0, -np.inf):
        np.testing.assert_array_equal(im2col.im2col(x, pool, stride, padding, dilation, fill),
                                      loop_im2col(x, pool, stride, padding, dilation, fill))


@pytest.mark.parametrize("pool, stride, padding, dilation, shape", SETTINGS)
def test_col2im_matches_the_loop(pool, stride, padding, dilation, shape):
    x = np.random.default_rng(1).standard_normal(shape)
    columns = np.random.default_rng(2).standard_normal(im2col.im2col(x, pool, stride, padding,
                                                                     dilation).shape)
    np.testing.assert_allclose(im2col.col2im(columns, shape, pool, stride, padding, dilation),
                               loop_col2im(columns, shape, pool, stride, padding, dilation))


def test_col2im_adds_up_cells_shared_by_overlapping_windows():
    x = np.zeros((4, 4))
    counts = im2col.col2im(np.ones(im2col.im2col(x, 2, 1).shape), x.shape, 2, 1)
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])
    # with padding, the padded cells' shares are dropped, the inside cells' kept
    counts = im2col.col2im(np.ones(im2col.im2col(np.zeros((3, 3)), 3, 1, 1).shape), (3, 3), 3, 1, 1)
    np.testing.assert_array_equal(counts, [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


def test_col2im_is_the_transpose_of_im2col():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 6))
    columns = rng.standard_normal(im2col.im2col(x, (3, 2), (1, 2), 1).shape)
    left = (im2col.im2col(x, (3, 2), (1, 2), 1) * columns).sum()
    right = (x * im2col.col2im(columns, x.shape, (3, 2), (1, 2), 1)).sum()
    assert np.isclose(left, right)


def test_the_column_matrix_copies_the_input_about_k_over_s_squared_times():
    x = np.zeros((8, 16, 32, 32))
    assert im2col.im2col(x, 2, 2).size == x.size                  # tiles: one copy
    assert im2col.im2col(x, 3, 1).size == 128 * 9 * 30 * 30       # K · L per plane
    assert im2col.im2col(x, 3, 1).size / x.size == pytest.approx(9 * (30 / 32) ** 2)


@pytest.mark.parametrize("pool, stride, padding, dilation, shape", SETTINGS)
def test_im2col_pooling_matches_the_reference(pool, stride, padding, dilation, shape):
    x = np.random.default_rng(4).permutation(np.prod(shape)).reshape(shape).astype(float)
    out = reference.max_pool2d(x, pool, stride, padding, dilation)
    np.testing.assert_array_equal(im2col.max_pool2d(x, pool, stride, padding, dilation), out)
    grad = np.random.default_rng(5).standard_normal(out.shape)
    np.testing.assert_allclose(im2col.max_pool2d_backward(grad, x, pool, stride, padding, dilation),
                               reference.max_pool2d_backward(grad, x, pool, stride, padding, dilation))
    if dilation == 1:
        np.testing.assert_allclose(im2col.avg_pool2d(x, pool, stride, padding),
                                   reference.avg_pool2d(x, pool, stride, padding))
        np.testing.assert_allclose(im2col.avg_pool2d_backward(grad, shape, pool, stride, padding),
                                   reference.avg_pool2d_backward(grad, shape, pool, stride, padding))


def test_im2col_ties_go_to_the_first_maximum_like_pooling_lib():
    x = np.array([[5., 5.], [1., 5.]])
    g = im2col.max_pool2d_backward(np.ones((1, 1)), x, 2, 2)
    np.testing.assert_array_equal(g, pl.max_pool2d_backward(np.ones((1, 1)), x, 2, 2))
    assert g[0, 0] == 1 and g.sum() == 1


def test_show_im2col_draws_the_column_matrix_and_its_reduction():
    import matplotlib
    matplotlib.use("Agg")
    from pooling_lib.course.figures import EXAMPLE
    from pooling_lib.course.plotting import show_im2col
    board = show_im2col(EXAMPLE, 2, stride=1)
    source, matrix, reduced, result = board.grids
    np.testing.assert_array_equal(matrix.values, im2col.im2col(EXAMPLE, 2, 1))
    np.testing.assert_array_equal(reduced.values, [[6, 7, 8, 6, 7, 8, 3, 3, 4]])
    np.testing.assert_array_equal(result.values, pl.max_pool2d(EXAMPLE, 2, 1))
    padded = show_im2col(EXAMPLE, 3, stride=2, padding=1, mode="avg").grids[1]
    np.testing.assert_array_equal(padded.values, im2col.im2col(EXAMPLE, 3, 2, 1))  # padding: 0
    assert np.isneginf(show_im2col(EXAMPLE, 3, stride=2, padding=1).grids[1].values).sum() == 11


@pytest.mark.parametrize("settings", [dict(pool_size=3, stride=2), dict(pool_size=2, stride=1, padding=1),
                                      dict(pool_size=(2, 3), stride=(1, 2))])
def test_im2col_layers_give_the_functions_results(settings):
    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, (2, 3, 7, 8)).astype(float)   # ties: the first maximum must win
    layer = im2col.Im2colMaxPool(**settings)
    out = layer.forward(x)
    np.testing.assert_array_equal(out, im2col.max_pool2d(x, **settings))
    grad = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(layer.backward(grad, 0.1), im2col.max_pool2d_backward(grad, x, **settings))
    np.testing.assert_allclose(layer.backward(grad), pl.max_pool2d_backward(grad, x, **settings))
    average = im2col.Im2colAvgPool(**settings)
    np.testing.assert_array_equal(average.forward(x), im2col.avg_pool2d(x, **settings))
    np.testing.assert_allclose(average.backward(grad), pl.avg_pool2d_backward(grad, x.shape, **settings))
    with pytest.raises(ValueError, match="before forward"):
        im2col.Im2colMaxPool(2).backward(grad)
