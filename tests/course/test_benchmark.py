"""pooling_lib.course.benchmark and the benchmark script: right numbers, positive times, the table."""
import importlib.util
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import pooling_lib as pl  # noqa: E402
from pooling_lib.course import benchmark as B  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [(2, 2, 8, 8, 2, 2), (1, 3, 7, 9, 3, 2)]
COLUMNS = {"config", "mode", "dtype", "pass", *B.METHODS, "torch_all", "peak"}


@pytest.fixture
def no_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # makes `import torch` raise ImportError


def script():
    spec = importlib.util.spec_from_file_location("bench_pooling",
                                                  ROOT / "benchmarks" / "bench_pooling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("pool, stride", [(2, 2), (3, 2), (3, 1), (2, 3)])
def test_loop_layers_match_pooling_lib_forward_and_backward(pool, stride):
    rng = np.random.default_rng(0)
    x = rng.permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8).astype(float)
    for loop, ours in ((B.LoopMaxPool, pl.MaxPool), (B.LoopAvgPool, pl.AvgPool)):
        mine, theirs = loop(pool, stride), ours(pool, stride)
        np.testing.assert_allclose(mine.forward(x), theirs.forward(x))
        grad = rng.standard_normal(theirs.output.shape)
        np.testing.assert_allclose(mine.backward(grad), theirs.backward(grad, 0.1))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_im2col_layer_matches_pooling_lib(mode):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 9, 7))
    layer, ours = B.LAYERS[mode]["im2col"](3, 2), (pl.MaxPool if mode == "max" else pl.AvgPool)(3, 2)
    np.testing.assert_allclose(layer.forward(x), ours.forward(x))
    grad = rng.standard_normal(ours.output.shape)
    np.testing.assert_allclose(layer.backward(grad), ours.backward(grad))


def test_median_time_and_measure_give_positive_seconds():
    calls = []
    assert B.median_time(lambda: calls.append(1), budget=0.001, runs=5) > 0
    assert len(calls) >= 6                            # a warm-up call, then at least 5 runs
    assert len(calls) >= 5 * 100                      # a call this short is timed in batches
    slow = B.median_time(lambda: time.sleep(0.002), budget=0.001, runs=3)
    assert 0.002 <= slow < 0.1                        # per call, not per batch
    x = np.ones((1, 1, 4, 4))
    name, forward, both = B.measure("loop", B.LoopMaxPool(2, 2), x, np.ones((1, 1, 2, 2)), 0.001,
                                    scale=3)
    assert name == "loop" and forward > 0 and both > 0


def test_compare_returns_every_config_mode_dtype_and_pass(no_torch):
    assert B.torch_layer("max", 2, 2) is None and "torch" not in B.available()
    rows = B.compare(CONFIGS, modes=("max", "avg"), dtypes=(np.float32,), budget=0.001, runs=1)
    assert [(r["config"], r["mode"], r["pass"]) for r in rows] == [
        (c, m, p) for c in CONFIGS for m in ("max", "avg") for p in B.PASSES]
    for row in rows:
        assert set(row) == COLUMNS and row["dtype"] == "float32" and row["torch"] is None
        assert row["torch_all"] is None
        assert all(row[m] > 0 for m in ("pooling_lib", "im2col", "loop"))
        assert row["peak"] >= B.array_bytes(row) / 2       # at least its output, at most the bound
        assert row["peak"] <= 4 * B.array_bytes(row) + 2**20
    table = B.format_table(rows).splitlines()
    assert table[0] == B.HEADER and len(table) == 2 + len(rows)
    assert table[2].split()[:4] == ["2,2,8,8,2,2", "max", "float32", "forward"]


def test_plots_are_log_scale_figures(no_torch):
    rows = B.compare(CONFIGS[:1], budget=0.001, runs=1)
    figure = B.plot_timings(rows)
    assert [ax.get_xscale() for ax in figure.axes] == ["log", "log"]
    assert [ax.get_title() for ax in figure.axes] == ["forward", "forward + backward"]
    assert len(figure.axes[0].patches) == 3           # pooling_lib, im2col, loop
    single = B.plot_times({"a": 1e-6, "b": 2e-3}, "title")
    assert [t.get_text() for t in single.axes[0].get_yticklabels()] == ["a", "b"]
    assert [B.format_time(s) for s in (5e-9, 1e-7, 9.96e-6, 0.0123, 2.5)] == \
        ["5 ns", "100 ns", "10 µs", "12 ms", "2.5 s"]


def test_cli_prints_the_table(capsys, no_torch):
    script().main(["--quick", "--config", "0"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"numpy {np.__version__}")
    assert lines[1].split() == ["N,C,H,W,pool,stride", "mode", "dtype", "pass", "ours", "µs",
                                "im2col", "µs", "loop", "µs", "torch", "µs", "ours/torch",
                                "loop/ours"]
    body = [line.split() for line in lines[3:11]]     # max/avg × float32/float64 × 2 passes
    assert {(b[1], b[2], b[3]) for b in body} == {(m, d, p) for m in ("max", "avg")
                                                  for d in ("float32", "float64") for p in B.PASSES}
    assert all(b[0] == "1,1,8,8,2,2" and b[7:9] == ["-", "-"] and float(b[4]) > 0 for b in body)
    assert all(float(b[6]) > 0 and float(b[9]) > 0 for b in body)       # the loop runs here
    threads = lines[11:]
    assert threads[0] == "" and threads[1] == ("PyTorch is not installed here (its columns show -); "
                                               "pooling_lib's peak memory during the pass, results included")
    assert threads[2] == B.THREADS_HEADER and len(threads) == 4 + len(body)
    for line, first in zip(threads[4:], body):
        cells = line.split()
        assert cells[:5] == first[:5] and cells[5:9] == ["-"] * 4   # the same times as table 1
        assert float(cells[9]) > 0 and float(cells[10]) > 0


def test_peak_bytes_sees_what_a_pass_allocates():
    class Allocates:
        def forward(self, x):
            self.kept = np.ones(1 << 20, np.uint8)          # 1 MiB, kept by the layer
            return x

        def backward(self, grad, learning_rate=None):
            np.ones(3 << 20, np.uint8)                       # 3 MiB for a moment
            return grad
    forward, both = B.peak_bytes(Allocates(), None, None)
    assert 1 << 20 <= forward < (1 << 20) + 50_000
    assert (4 << 20) <= both < (4 << 20) + 100_000          # the kept MiB, then 3 more at once


def test_the_loop_is_left_out_of_huge_configs(no_torch, monkeypatch):
    monkeypatch.setattr(B, "LOOP_WINDOWS", 10)
    rows = B.compare([(1, 1, 8, 8, 2, 2)], budget=0.001, runs=1)  # 16 windows
    assert all(r["loop"] is None and r["pooling_lib"] > 0 for r in rows)
    for line in B.format_rows(rows):                 # loop, torch, ours/torch, loop/ours: "-"
        cells = line.split()
        assert cells[6:] == ["-"] * 4 and float(cells[4]) > 0 and float(cells[5]) > 0
    monkeypatch.setattr(B, "LOOP_WINDOWS", 16)       # the limit itself is still timed
    assert all(r["loop"] > 0 for r in B.compare([(1, 1, 8, 8, 2, 2)], budget=0.001, runs=1))


def test_the_full_configs_time_the_loop_only_where_it_is_quick():
    configs = script().CONFIGS
    assert (1, 1, 2048, 2048, 3, 2) in configs and (64, 64, 56, 56, 3, 2) in configs
    timed = [c for c in configs if c[1] * np.prod(B.output_shape(*c[2:])) <= B.LOOP_WINDOWS]
    assert (1, 1, 2048, 2048, 3, 2) not in timed     # a million windows: minutes in the loop
    assert (64, 64, 56, 56, 3, 2) in timed and (8, 64, 112, 112, 3, 2) in timed


def test_pytorch_is_timed_on_one_thread_and_on_all(monkeypatch):
    """A stand-in for PyTorch (the loop layer): the rows get both columns, from one layer made
    for one thread and one for all threads (None), and the ratios in the second table."""
    made = []

    def fake_torch_layer(mode, pool, stride, threads=1):
        made.append(threads)
        return B.LoopMaxPool(pool, stride), np.asarray
    monkeypatch.setattr(B, "torch_layer", fake_torch_layer)
    rows = B.compare([(1, 2, 6, 6, 2, 2)], dtypes=(np.float32, np.float64), budget=0.001, runs=1)
    assert made == [1, None, 1, None]                 # per dtype: one thread, then all of them
    assert all(r["torch"] > 0 and r["torch_all"] > 0 for r in rows)
    for line, r in zip(B.format_threads_table(rows).splitlines()[2:], rows):
        cells = [float(c) for c in line.split()[4:]]
        ours, one, every = (r[m] * 1e6 for m in ("pooling_lib", "torch", "torch_all"))
        assert cells[:3] == [round(t, 1) for t in (ours, one, every)]
        assert cells[3:5] == [round(ours / one, 2), round(ours / every, 2)]


def test_the_peak_column_is_the_pooling_lib_layers_peak(no_torch, monkeypatch):
    """A pooling_lib stand-in whose allocations we know: forward keeps 1 MiB and returns the
    output (1 × 1 × 4 × 4 float64, 128 bytes); backward makes 3 MiB for a moment and returns an
    input-sized gradient. So forward peaks at 1 MiB + 128 bytes, forward + backward at
    1 MiB + 128 + 3 MiB (the gradient comes after the 3 MiB are freed); a little more for the
    Python objects."""
    class Known:
        def __init__(self, pool, stride):
            pass

        def forward(self, x):
            self.kept = np.ones(1 << 20, np.uint8)
            return np.zeros((1, 1, 4, 4))

        def backward(self, grad, learning_rate=None):
            np.ones(3 << 20, np.uint8)
            return np.zeros((1, 1, 8, 8))
    monkeypatch.setitem(B.LAYERS["max"], "pooling_lib", Known)
    forward, both = B.compare([(1, 1, 8, 8, 2, 2)], budget=0.001, runs=1)
    assert (1 << 20) + 128 <= forward["peak"] < (1 << 20) + 128 + 20_000
    assert (4 << 20) + 128 <= both["peak"] < (4 << 20) + 128 + 20_000
    assert B.array_bytes(both) == 8 * (64 + 16)
    cells = B.format_threads_table([forward, both]).splitlines()[3].split()
    assert float(cells[9]) == float(f"{both['peak'] / 2**20:.3g}") and 4.0 <= float(cells[9]) < 4.02
    assert float(cells[10]) == round(both["peak"] / 640, 2)


def test_the_peak_of_a_real_layer_is_between_its_results_and_the_bound(no_torch, monkeypatch):
    """AvgPool 2×2 / 2 on 1 × 1 × 512 × 512 float64: 2 MiB in, 0.5 MiB out. Forward holds at
    least its output; forward + backward at least the output (the layer keeps it) and the
    gradient (input-sized); neither more than the library's bound for a call,
    4 × (in + out) + 1 MiB (docs/semantics.md, section 13), plus the kept output for the pair."""
    monkeypatch.setattr(B, "LOOP_WINDOWS", 0)         # (the loop would take a second)
    forward, both = B.compare([(1, 1, 512, 512, 2, 2)], modes=("avg",), budget=0.001, runs=1)
    arrays = B.array_bytes(both)
    assert arrays == (2 << 20) + (1 << 19)
    assert 1 << 19 <= forward["peak"] <= 4 * arrays + (1 << 20)
    assert arrays <= both["peak"] <= 4 * arrays + (1 << 20) + (1 << 19)


def test_speed_explorer_times_again_on_every_change(no_torch):
    from pooling_lib.course import widgets
    explorer = widgets.speed_explorer(size=16, budget=0.001)
    assert explorer.png.startswith(b"\x89PNG") and not explorer.message.value
    assert "1&times;4&times;16&times;16" in explorer.formula.value and "torch" not in explorer.formula.value
    for name, value in [("size", 24), ("window", (3, 1)), ("mode", "avg")]:
        formula = explorer.formula.value
        explorer.controls[name].value = value
        assert not explorer.message.value and explorer.formula.value != formula, name
    assert "3&times;3 windows at stride 1" in explorer.formula.value
    assert [ax.get_xscale() for ax in explorer.picture.figure.axes] == ["log", "log"]
