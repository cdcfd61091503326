"""Regenerate every picture in img/: ``python -m pooling_lib.course.figures [folder]``.

The pictures come from the code the notebooks use (``plotting``, and the first state of each
explorer in ``widgets``), with seeded inputs and a fixed dpi, so two runs write the same files
(all but speed_explorer.png, which shows timings measured as it is drawn).
"""
import sys
from pathlib import Path

import numpy as np

from . import plotting, widgets
from .repo import IMG

# The series' running example: a 4x4 input (a 2x2 max pool at stride 2 gives [[6, 8], [3, 4]]).
EXAMPLE = np.array([[1, 1, 2, 4],
                    [5, 6, 7, 8],
                    [3, 2, 1, 0],
                    [1, 2, 3, 4]])


def one_peak(size=5):
    """Digits 0..4 with a single 9 in the middle, shape ``(size, size)``: with a 3x3 pool at
    stride 1 over 5x5, every window picks the peak, so it collects a gradient of 9."""
    x = widgets.small_input(size) % 5
    x[size // 2, size // 2] = 9
    return x


PICTURES = {  # file name -> a function making the picture (anything with a png() method)
    "maxpooling_1.png": lambda: plotting.show_pools(EXAMPLE, 2, stride=1),
    "maxpooling_2.png": lambda: plotting.show_pools(EXAMPLE, 2, stride=2),
    "backward_accumulation.png":
        lambda: plotting.show_gradient(one_peak(), 3, stride=1, cell=(0, 2)),
    "im2col.png": lambda: plotting.show_im2col(EXAMPLE, 2, stride=1),
    # each explorer's first state; speed_explorer's shows measured timings, so it changes a
    # little every time it is made, and digit_explorer trains notebook 10's CNN first (seeded)
    **{f"{make.__name__}.png": (lambda make=make: make().picture) for make in widgets.EXPLORERS},
}


def main(folder=None):
    """Write every picture of ``PICTURES`` into ``folder`` (default: the repository's img/);
    returns the paths written."""
    folder = Path(IMG if folder is None else folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in PICTURES.items():
        path = folder / name
        path.write_bytes(make().png(compress_level=9))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main(*sys.argv[1:2]):
        print(path)
