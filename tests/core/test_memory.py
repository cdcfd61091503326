"""Memory with a bound (docs/semantics.md, "Memory and threads"): the peak of one call, its result included,
is at most 4 x (input + output bytes) + 1 MiB, on a cold start too; the caches stay small; and
calls from many threads give what serial calls give."""
import threading
import tracemalloc

import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib import _cache, geometry

MiB = 1 << 20


def pieces(result):
    """A function's result as a tuple of arrays."""
    return result if isinstance(result, tuple) else (result,)


def nbytes(result):
    return sum(a.nbytes for a in pieces(result))


def peak_of(call, *args):
    """The result of call(*args) and the peak bytes traced while it ran (caches emptied first)."""
    _cache.clear_caches()
    geometry.PLANS.clear()
    tracemalloc.start()
    try:
        result = call(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def layer_pass(layer):
    return lambda x: (lambda y: layer.backward(np.ones_like(y)))(layer.forward(x))


CASES = {  # name: (input shape, dtype, forward, backward or None)
    "small input, big pool": ((64, 64), np.float32, lambda x: pl.max_pool2d(x, 32, 1),
                              lambda g, x: pl.max_pool2d_backward(g, x, 32, 1)),
    "one row, a 2048-cell pool": ((1, 4096), np.float64, lambda x: pl.avg_pool2d(x, (1, 2048), 1),
                                  lambda g, x: pl.avg_pool2d_backward(g, x.shape, (1, 2048), 1)),
    "a 5000-cell window": ((2, 5000), np.float32, lambda x: pl.max_pool2d(x, (1, 5000), return_indices=True),
                           lambda g, x: pl.max_pool2d_backward(g[0], x, (1, 5000))),
    "batch 3/2": ((16, 16, 32, 32), np.float32, lambda x: pl.max_pool2d(x, 3, 2),
                  lambda g, x: pl.max_pool2d_backward(g, x, 3, 2)),
    "batch 3/2 split": ((16, 16, 32, 32), np.float64, lambda x: pl.max_pool2d(x, 3, 2, return_indices=True),
                        lambda g, x: pl.max_pool2d_backward(g[0], x, 3, 2, ties="split")),
    "batch 3/1 all": ((8, 16, 32, 32), np.float32, lambda x: pl.max_pool2d(x, 3, 1),
                      lambda g, x: pl.max_pool2d_backward(g, x, 3, 1, ties="all")),
    "average, padding": ((16, 16, 32, 32), np.float32, lambda x: pl.avg_pool2d(x, 3, 2, 1),
                         lambda g, x: pl.avg_pool2d_backward(g, x.shape, 3, 2, 1)),
    "float16 average": ((8, 8, 32, 32), np.float16, lambda x: pl.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
                        lambda g, x: pl.avg_pool2d_backward(g, x.shape, 3, 2, 1, count_include_pad=False)),
    "one large plane": ((1, 1, 1024, 1024), np.float32, lambda x: pl.max_pool2d(x, 3, 2),
                        lambda g, x: pl.max_pool2d_backward(g, x, 3, 2)),
    "adaptive down": ((8, 32, 28, 28), np.float32, lambda x: pl.adaptive_max_pool2d(x, 7, return_indices=True),
                      lambda g, x: pl.adaptive_max_pool2d_backward(g[0], x, 7)),
    "adaptive up": ((2, 3, 5, 5), np.float32, lambda x: pl.adaptive_max_pool2d(x, 300),
                    lambda g, x: pl.adaptive_max_pool2d_backward(g, x, 300)),
    "adaptive average": ((8, 32, 28, 28), np.float64, lambda x: pl.adaptive_avg_pool2d(x, (5, 9)),
                         lambda g, x: pl.adaptive_avg_pool2d_backward(g, x.shape, (5, 9))),
    "1-D": ((8, 16, 4096), np.float32, lambda x: pl.max_pool1d(x, 5, 2, 2),
            lambda g, x: pl.max_pool1d_backward(g, x, 5, 2, 2)),
    "MaxPool layer, split": ((8, 16, 32, 32), np.float32, layer_pass(pl.MaxPool(3, 2, ties="split")), None),
    "AvgPool layer": ((8, 16, 32, 32), np.float32, layer_pass(pl.AvgPool(2)), None),
    "unpooling": ((8, 16, 32, 32), np.float32,
                  lambda x: pl.max_unpool2d(*pl.max_pool2d(x, 2, return_indices=True), (64, 64)), None),
}


@pytest.mark.parametrize("name", CASES)
def test_a_call_needs_at_most_four_times_its_arrays_plus_one_mib(name):
    shape, dtype, forward, backward = CASES[name]
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out, peak = peak_of(forward, x)
    assert peak <= 4 * (x.nbytes + nbytes(out)) + MiB, f"forward: {peak / MiB:.2f} MiB"
    if backward is not None:
        g = tuple(np.ones_like(a) for a in out) if isinstance(out, tuple) else np.ones_like(out)
        grad, peak = peak_of(backward, g, x)
        assert peak <= 4 * (nbytes(g if not isinstance(g, tuple) else g[0]) + grad.nbytes) + MiB, \
            f"backward: {peak / MiB:.2f} MiB"


def test_caches_stay_small_after_hundreds_of_shapes():
    _cache.clear_caches()
    rng = np.random.default_rng(1)
    for _ in range(300):
        H, W = rng.integers(8, 160, 2)
        pool, stride = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        x = rng.standard_normal((int(rng.integers(1, 3)), H, W))
        y = pl.max_pool2d(x, pool, stride, padding=pool // 2)
        pl.max_pool2d_backward(np.ones_like(y), x, pool, stride, padding=pool // 2)
        z = pl.avg_pool2d(x, pool, stride, padding=pool // 2, count_include_pad=False)
        pl.avg_pool2d_backward(np.ones_like(z), x.shape, pool, stride, padding=pool // 2, count_include_pad=False)
    assert 0 < _cache.cache_bytes() < 32 * MiB
    assert all(cache.bytes <= cache.max_bytes for cache in _cache.CACHES)


def test_a_cache_keeps_at_most_its_bytes_and_drops_the_oldest():
    calls = []
    cache = _cache.Cache(lambda n: calls.append(n) or np.zeros(n, np.uint8), max_bytes=8000)
    for n in (500, 600, 700, 500):
        cache(n)
    assert calls == [500, 600, 700]              # 500 came from the cache the second time
    cache(1100)                                  # more than max_bytes / 8: made, never kept
    cache(1100)
    assert calls[-2:] == [1100, 1100] and cache.bytes <= 8000
    for n in range(800, 1000, 10):               # fill it up: the oldest go first
        cache(n)
    assert cache.bytes <= 8000 and (500,) not in cache.store


CALLS = [
    lambda x: pl.max_pool2d(x, 3, 2, 1, return_indices=True)[1],
    lambda x: pl.max_pool2d_backward(np.ones(pl.max_pool2d(x, 2, 1).shape), x, 2, 1, ties="split"),
    lambda x: pl.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
    lambda x: pl.avg_pool2d_backward(np.ones(pl.avg_pool2d(x, 2).shape), x.shape, 2),
    lambda x: pl.adaptive_max_pool2d(x, (5, 3), return_indices=True)[1],
    lambda x: pl.adaptive_avg_pool2d_backward(np.ones(x.shape[:-2] + (4, 4)), x.shape, 4),
]


def test_functions_called_from_eight_threads_give_the_serial_results():
    rng = np.random.default_rng(2)
    inputs = [rng.integers(0, 3, (int(rng.integers(1, 3)), int(rng.integers(6, 40)), int(rng.integers(6, 40))))
              .astype(float) for _ in range(24)]  # many shapes: the caches fill from every thread
    work = [(c, x) for c in range(len(CALLS)) for x in range(len(inputs))]
    _cache.clear_caches()
    serial = {(c, x): CALLS[c](inputs[x]) for c, x in work}
    _cache.clear_caches()
    results, errors, start = {}, [], threading.Barrier(8)

    def run(part):
        start.wait()
        try:
            for c, x in work[part::8] * 3:
                results[c, x] = CALLS[c](inputs[x])
                np.testing.assert_array_equal(results[c, x], serial[c, x])
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(part,)) for part in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    assert len(results) == len(work)


THREADED = [
    lambda x: pl.max_pool2d(x, 3, 2, 1, return_indices=True),
    lambda x: pl.max_pool2d_backward((np.arange(pl.max_pool2d(x, 3, 1).size) % 7).reshape(
        pl.max_pool2d(x, 3, 1).shape).astype(x.dtype), x, 3, 1),
    lambda x: pl.avg_pool2d(x, 3, 2, 1),
    lambda x: pl.avg_pool2d_backward(pl.avg_pool2d(x, 2, 1), x.shape, 2, 1),
    lambda x: (lambda layer: (lambda y: layer.backward(np.ones_like(y)))(layer.forward(x)))(pl.MaxPool(2, 2)),
    lambda x: pl.max_pool2d_backward(np.ones(pl.max_pool2d(x, 3, 2).shape, x.dtype), x, 3, 2),  # sparse overlap
]


@pytest.mark.parametrize("threads", [2, 3, 4])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
@pytest.mark.parametrize("shape", [(3, 7, 30, 30), (1, 130, 140), (2, 1, 100, 90)])  # many planes, few
def test_pooling_on_the_engines_threads_gives_the_same_bits_as_on_one(monkeypatch, threads, dtype, shape):
    from pooling_lib import _engine
    x = np.random.default_rng(3).integers(-50, 50, shape).astype(dtype) / 7
    x = x.astype(dtype)
    monkeypatch.setattr(_engine, "THREADS", 1)
    serial = [call(x) for call in THREADED]
    monkeypatch.setattr(_engine, "THREADS", threads)
    monkeypatch.setattr(_engine, "PARALLEL_BYTES", 0)      # every input goes to the threads ...
    monkeypatch.setattr(_engine, "CHUNK_BYTES", 3000)      # ... in many small chunks
    monkeypatch.setattr(_engine, "THREAD_CHUNK_BYTES", 3000)
    used = []
    real_pool = _engine.thread_pool
    monkeypatch.setattr(_engine, "thread_pool", lambda: used.append(1) or real_pool())
    for call, expected in zip(THREADED, serial):
        for got, want in zip(pieces(call(x)), pieces(expected)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    assert len(used) >= len(THREADED)


def test_small_inputs_stay_on_the_calling_thread(monkeypatch):
    from pooling_lib import _engine

    def no_threads():
        raise AssertionError("a small input went to the thread pool")
    monkeypatch.setattr(_engine, "thread_pool", no_threads)
    x = np.random.default_rng(4).standard_normal((4, 16, 40, 40)).astype(np.float32)  # 400 KB
    layer = pl.MaxPool(3, 2)
    layer.backward(np.ones_like(layer.forward(x)))
    pl.avg_pool2d_backward(pl.avg_pool2d(x, 2), x.shape, 2)
    assert x.nbytes < _engine.PARALLEL_BYTES
