import struct

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from pooling_lib.course import figures, widgets  # noqa: E402

EXPECTED = {"maxpooling_1.png", "maxpooling_2.png", "backward_accumulation.png", "im2col.png",
            "pool_explorer.png", "max_vs_avg_explorer.png", "forward_stepper.png",
            "backward_explorer.png", "padding_explorer.png", "lp_explorer.png", "speed_explorer.png",
            "downsample_explorer.png",
            "shift_explorer.png",
            "receptive_field_explorer.png",
            "digit_explorer.png"}


def png_size(data):
    """(width, height) from a PNG's header."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def test_main_writes_every_picture_into_the_folder_given(tmp_path):
    written = figures.main(tmp_path / "pictures")
    assert {path.name for path in written} == EXPECTED
    assert {path.name for path in (tmp_path / "pictures").iterdir()} == EXPECTED
    for path in written:
        width, height = png_size(path.read_bytes())
        assert 200 < width < 1400 and 150 < height < 1000, path.name
        assert path.stat().st_size < 100_000, path.name


def test_pictures_are_reproducible():
    make = figures.PICTURES["maxpooling_2.png"]
    assert make().png(compress_level=9) == make().png(compress_level=9)


def test_max_pooling_pictures_show_the_running_example():
    nine = figures.PICTURES["maxpooling_1.png"]()
    four = figures.PICTURES["maxpooling_2.png"]()
    assert len(nine.grids) == 9 + 1 and len(four.grids) == 4 + 1
    assert nine.grids[-1].values.tolist() == [[6, 7, 8], [6, 7, 8], [3, 3, 4]]
    assert four.grids[-1].values.tolist() == [[6, 8], [3, 4]]


def test_backward_picture_gives_the_peak_a_gradient_of_nine():
    x = figures.one_peak()
    assert x.shape == (5, 5) and (x == x.max()).sum() == 1 and x[2, 2] == 9
    picture = figures.PICTURES["backward_accumulation.png"]()
    assert picture.total.values[2, 2] == 9 and picture.total.values.sum() == 9


def test_explorer_pictures_are_their_first_state():
    picture = figures.PICTURES["pool_explorer.png"]()
    assert picture.png() == widgets.pool_explorer().png


def test_default_folder_is_img_next_to_the_package():
    assert figures.IMG.name == "img"
    assert (figures.IMG.parent / "pooling_lib" / "course" / "figures.py").exists()
    assert np.array_equal(figures.EXAMPLE.shape, (4, 4))
