"""Time max and average pooling: a per-window loop, im2col, pooling_lib and (if installed) PyTorch.

Run from the repository root:

    python benchmarks/bench_pooling.py            # every config, float32 and float64
    python benchmarks/bench_pooling.py --quick    # fewer repeats

Prints medians in microseconds for the forward pass and for forward + backward (through the
layers' forward/backward), and ratios taken within this one run. The loop version is timed on
one sample of the batch and multiplied by N (it would take minutes otherwise). PyTorch runs on
one thread with its default NCHW layout.
"""
import argparse
import statistics
import time

import numpy as np

import pooling_lib as pl
from pooling_lib import im2col

CONFIGS = [  # N, C, H, W, pool, stride
    (1, 1, 8, 8, 2, 2),
    (1, 16, 28, 28, 2, 2),
    (32, 32, 32, 32, 2, 2),
    (32, 32, 32, 32, 3, 2),
    (8, 64, 112, 112, 3, 2),
    (32, 32, 32, 32, 3, 1),
]


class LoopMaxPool:
    """The per-window loop version most tutorials write (no padding)."""

    def __init__(self, pool, stride):
        self.pool, self.stride = pool, stride

    def forward(self, x):
        self.input = x
        N, C, H, W = x.shape
        k, s = self.pool, self.stride
        out = np.empty((N, C, (H - k) // s + 1, (W - k) // s + 1), x.dtype)
        for n in range(N):
            for c in range(C):
                for i in range(out.shape[2]):
                    for j in range(out.shape[3]):
                        out[n, c, i, j] = x[n, c, i * s:i * s + k, j * s:j * s + k].max()
        return out

    def backward(self, grad, learning_rate=None):
        x, k, s = self.input, self.pool, self.stride
        grad_input = np.zeros_like(x)
        N, C, oh, ow = grad.shape
        for n in range(N):
            for c in range(C):
                for i in range(oh):
                    for j in range(ow):
                        window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                        h, w = np.unravel_index(window.argmax(), window.shape)
                        grad_input[n, c, i * s + h, j * s + w] += grad[n, c, i, j]
        return grad_input


class LoopAvgPool(LoopMaxPool):
    def forward(self, x):
        self.input = x
        N, C, H, W = x.shape
        k, s = self.pool, self.stride
        out = np.empty((N, C, (H - k) // s + 1, (W - k) // s + 1), x.dtype)
        for n in range(N):
            for c in range(C):
                for i in range(out.shape[2]):
                    for j in range(out.shape[3]):
                        out[n, c, i, j] = x[n, c, i * s:i * s + k, j * s:j * s + k].mean()
        return out

    def backward(self, grad, learning_rate=None):
        k, s = self.pool, self.stride
        grad_input = np.zeros_like(self.input)
        N, C, oh, ow = grad.shape
        for i in range(oh):
            for j in range(ow):
                grad_input[:, :, i * s:i * s + k, j * s:j * s + k] += grad[:, :, i:i + 1, j:j + 1] / k**2
        return grad_input


class Im2colPool:
    """im2col forward; the backward reuses the winners found by forward."""

    def __init__(self, mode, pool, stride):
        self.mode, self.pool, self.stride = mode, pool, stride

    def forward(self, x):
        self.input = x
        if self.mode == "avg":
            return im2col.avg_pool2d(x, self.pool, self.stride)
        columns, self.win = im2col.winning_rows(x, self.pool, self.stride, 0, 1)
        N, C, H, W = x.shape
        out = np.take_along_axis(columns, self.win[:, None, :], axis=1)
        return out.reshape(N, C, (H - self.pool) // self.stride + 1, -1)

    def backward(self, grad, learning_rate=None):
        if self.mode == "avg":
            return im2col.avg_pool2d_backward(grad, self.input.shape, self.pool, self.stride)
        K = self.pool ** 2
        g = grad.reshape(-1, 1, self.win.shape[1])
        columns = np.zeros((len(g), K, g.shape[2]), grad.dtype)
        np.put_along_axis(columns, self.win[:, None, :], g, axis=1)
        return im2col.col2im(columns, self.input.shape, self.pool, self.stride)


def median_time(fn, budget):
    """Median seconds of fn() over repeats filling about ``budget`` seconds (3 to 200 runs)."""
    fn()
    times = []
    while len(times) < 3 or (sum(times) < budget and len(times) < 200):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_layer(mode, pool, stride):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    fn = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d

    class TorchPool:
        def forward(self, x):
            self.input = torch.from_numpy(x).requires_grad_()
            self.output = fn(self.input, pool, stride)
            return self.output

        def backward(self, grad, learning_rate=None):
            self.output.backward(grad)
            return self.input.grad

        def forward_only(self, x):
            with torch.no_grad():
                return fn(torch.from_numpy(x), pool, stride)

    return TorchPool(), torch.from_numpy


def measure(name, layer, x, grad, budget, scale=1):
    """(name, forward seconds, forward + backward seconds) of a layer on x."""
    forward = getattr(layer, "forward_only", layer.forward)

    def forward_backward():
        layer.forward(x)
        layer.backward(grad, None)

    return name, median_time(lambda: forward(x), budget) * scale, \
        median_time(forward_backward, budget) * scale


def run(config, mode, dtype, budget):
    N, C, H, W, pool, stride = config
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    oh, ow = (H - pool) // stride + 1, (W - pool) // stride + 1
    grad = rng.standard_normal((N, C, oh, ow)).astype(dtype)
    ours = pl.MaxPool(pool, stride) if mode == "max" else pl.AvgPool(pool, stride)
    loop = (LoopMaxPool if mode == "max" else LoopAvgPool)(pool, stride)
    rows = [measure("pooling_lib", ours, x, grad, budget),
            measure("im2col", Im2colPool(mode, pool, stride), x, grad, budget),
            measure("loop", loop, x[:1], grad[:1], min(budget, 0.5), scale=N)]
    torch = torch_layer(mode, pool, stride)
    if torch is not None:
        layer, to_tensor = torch
        rows.append(measure("torch", layer, x, to_tensor(grad), budget))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing budget per cell")
    parser.add_argument("--config", type=int, action="append",
                        help="index into the config list (repeatable); default: all")
    args = parser.parse_args(argv)
    budget = 0.05 if args.quick else 0.3
    configs = [CONFIGS[i] for i in args.config] if args.config else CONFIGS
    print(f"numpy {np.__version__}; times are medians in microseconds; "
          "ratios: ours/torch (below 1: faster than PyTorch), loop/ours (speed-up over the loop)")
    header = f"{'N,C,H,W,pool,stride':<24}{'mode':<5}{'dtype':<8}{'pass':<9}" \
             f"{'ours':>10}{'im2col':>10}{'loop':>12}{'torch':>10}{'ours/torch':>11}{'loop/ours':>10}"
    print(header)
    print("-" * len(header))
    for config in configs:
        for mode in ("max", "avg"):
            for dtype in (np.float32, np.float64):
                times = {name: (f, b) for name, f, b in run(config, mode, dtype, budget)}
                for p, label in ((0, "forward"), (1, "fwd+bwd")):
                    t = {name: v[p] * 1e6 for name, v in times.items()}
                    torch_t = t.get("torch")
                    print(f"{','.join(map(str, config)):<24}{mode:<5}{np.dtype(dtype).name:<8}{label:<9}"
                          f"{t['pooling_lib']:>10.1f}{t['im2col']:>10.1f}{t['loop']:>12.0f}"
                          f"{torch_t if torch_t else float('nan'):>10.1f}"
                          f"{t['pooling_lib'] / torch_t if torch_t else float('nan'):>11.2f}"
                          f"{t['loop'] / t['pooling_lib']:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
