"""The handwritten digits that ship with scikit-learn: 1,797 images of 8 x 8 pixels, 10 classes.

    x_train, y_train, x_test, y_test = load_digits_split()   # (1437, 1, 8, 8) ... (360,)
    shift(x_test, 1, 0)                                     # every digit one pixel lower
"""
import numpy as np

from ..geometry import as_int


def load_digits_split(test_fraction=0.2, seed=0):
    """A fixed split of the digits, stratified (each class in the same proportion on both sides)
    and seeded (the same split every time).

    Returns x_train (N, 1, 8, 8) floats in 0..1, y_train (N,) ints 0..9, x_test, y_test.
    """
    from sklearn.datasets import load_digits  # imported here: only the digits need scikit-learn
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction!r}")
    digits = load_digits()
    x = (digits.images / 16.0)[:, None]  # pixel values are 0..16
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=test_fraction, random_state=seed, stratify=digits.target)
    return x_train, y_train, x_test, y_test


def shift(images, dy, dx):
    """Move images (..., H, W) down by ``dy`` and right by ``dx`` whole pixels (negative: up,
    left); pixels shifted in are 0."""
    images = np.asarray(images)
    to_rows, from_rows = spans(as_int(dy, "dy"), images.shape[-2])
    to_cols, from_cols = spans(as_int(dx, "dx"), images.shape[-1])
    moved = np.zeros_like(images)
    moved[..., to_rows, to_cols] = images[..., from_rows, from_cols]
    return moved


def spans(d, n):
    """(destination, source) slices that move an axis of length ``n`` by ``d`` cells."""
    d = max(-n, min(n, d))
    return slice(max(d, 0), n + min(d, 0)), slice(max(-d, 0), n - max(d, 0))
