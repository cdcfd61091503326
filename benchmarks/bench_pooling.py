"""Time max and average pooling: a per-window loop, im2col, pooling_lib and (if installed) PyTorch.

Run from the repository root:

    python benchmarks/bench_pooling.py                # every config, float32 and float64
    python benchmarks/bench_pooling.py --quick        # fewer repeats
    python benchmarks/bench_pooling.py --config 1     # only config 1 (repeatable)

Prints medians in microseconds for the forward pass and for forward + backward (through the
layers' forward/backward), and ratios taken within this one run. The loop version is timed on
one sample of the batch and multiplied by N (it would take minutes otherwise), and left out
("-") where timing it would take over ~10 s. PyTorch, when it imports, runs with its default
NCHW layout, on one thread in the first table; the second table puts pooling_lib against
PyTorch on one thread and on all of its threads (its default count), with pooling_lib's peak
memory (tracemalloc, results included) in MB and as a multiple of the input and output bytes.
Without PyTorch its columns show "-". The layers and the timing live in
``pooling_lib.course.benchmark``, which notebook 09 uses too.
"""
import argparse

import numpy as np

from pooling_lib.course.benchmark import HEADER, compare, format_rows, format_threads_table, torch_threads

CONFIGS = [  # N, C, H, W, pool, stride
    (1, 1, 8, 8, 2, 2),
    (1, 16, 28, 28, 2, 2),
    (32, 32, 32, 32, 2, 2),
    (32, 32, 32, 32, 3, 2),
    (8, 64, 112, 112, 3, 2),
    (32, 32, 32, 32, 3, 1),
    (1, 1, 2048, 2048, 3, 2),
    (64, 64, 56, 56, 3, 2),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing budget per cell")
    parser.add_argument("--config", type=int, action="append", choices=range(len(CONFIGS)),
                        metavar=f"0..{len(CONFIGS) - 1}",
                        help="index into the config list (repeatable); default: all")
    args = parser.parse_args(argv)
    budget = 0.05 if args.quick else 0.3
    configs = [CONFIGS[i] for i in args.config] if args.config else CONFIGS
    print(f"numpy {np.__version__}; times are medians in microseconds; torch: PyTorch on one thread; "
          "ratios: ours/torch (below 1: faster than PyTorch), loop/ours (speed-up over the loop)")
    print(HEADER)
    print("-" * len(HEADER))
    rows = []
    for config in configs:  # print as we go: the big configs take a while
        new = compare([config], ("max", "avg"), (np.float32, np.float64), budget)
        print("\n".join(format_rows(new)), flush=True)
        rows += new
    threads = torch_threads()
    print(f"\npooling_lib against PyTorch on 1 thread and on all its {threads} threads" if threads
          else "\nPyTorch is not installed here (its columns show -)", "; pooling_lib's peak memory",
          " during the pass, results included", sep="")
    print(format_threads_table(rows))


if __name__ == "__main__":
    main()
