"""Train the CNN of notebook 10 on the handwritten digits, from the terminal.

    python -m pooling_lib.cnn.demo                    # max pooling, the defaults of nn.train
    python -m pooling_lib.cnn.demo --pooling none     # the same network without pooling
    python -m pooling_lib.cnn.demo --help             # every option
"""
import argparse
import math
import sys
import time

import numpy as np

from .data import load_digits_split, shift
from .nn import BATCH_SIZE, EPOCHS, LEARNING_RATE, accuracy, count_parameters, make_cnn, train

ONE_PIXEL = ((-1, 0), (1, 0), (0, -1), (0, 1))


def parse(argv):
    """The options, checked: a bad one ends the program with a one-line error and exit code 2."""
    parser = argparse.ArgumentParser(
        prog="python -m pooling_lib.cnn.demo", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Train a small CNN with pooling on scikit-learn's 8x8 handwritten digits.")
    option = parser.add_argument
    option("--epochs", type=int, default=EPOCHS, help="passes over the training set")
    option("--pooling", choices=("max", "avg", "none"), default="max",
           help="the 2x2 pooling after the convolution")
    option("--seed", type=int, default=0, help="initial weights and batch order")
    option("--batch-size", type=int, default=BATCH_SIZE, help="images per step")
    option("--learning-rate", type=float, default=LEARNING_RATE,
           help="step size of gradient descent")
    args = parser.parse_args(argv)
    for name, ok, rule in (("epochs", args.epochs >= 1, "at least 1"),
                           ("batch_size", args.batch_size >= 1, "at least 1"),
                           ("learning_rate", 0 < args.learning_rate < math.inf, "positive"),
                           ("seed", args.seed >= 0, "0 or more")):
        if not ok:
            value = getattr(args, name)
            parser.error(f"argument --{name.replace('_', '-')}: must be {rule}, got {value}")
    return args


def text_bar(progress, width=30):
    """Training progress: one line per epoch ending with the loss and accuracies, and
    in a terminal a bar with the batch loss, redrawn after every batch."""
    end_of_epoch = progress.batch == progress.batches
    if not (end_of_epoch or sys.stdout.isatty()):
        return
    done = round(width * progress.batch / progress.batches)
    epoch = f"{progress.epoch:>{len(str(progress.epochs))}}/{progress.epochs}"
    line = f"\repoch {epoch} [{'#' * done:.<{width}}]"
    if end_of_epoch:
        h = progress.history
        line += f" loss {h['train_loss'][-1]:.3f}  train {h['train_accuracy'][-1]:.1%}" \
                f"  test {h['test_accuracy'][-1]:.1%}\n"
    else:
        line += f" loss {progress.loss:.3f}"
    print(line, end="", flush=True)


def main(argv=None):
    args = parse(argv)
    x_train, y_train, x_test, y_test = load_digits_split()
    network = make_cnn(None if args.pooling == "none" else args.pooling, seed=args.seed)
    print(f"{len(x_train)} training and {len(x_test)} test digits of 8x8 pixels")
    print(f"network: {network}")
    start = time.perf_counter()
    train(network, x_train, y_train, args.epochs, args.batch_size, args.learning_rate, args.seed,
          progress=text_bar, test=(x_test, y_test))
    seconds = time.perf_counter() - start
    print(f"test accuracy: {accuracy(network, x_test, y_test):.1%} on {len(x_test)} digits")
    moved = np.mean([accuracy(network, shift(x_test, dy, dx), y_test) for dy, dx in ONE_PIXEL])
    print(f"test accuracy, digits moved by one pixel: {moved:.1%} (mean of up, down, left, right)")
    print(f"training time: {seconds:.1f} s")
    print(f"parameters: {count_parameters(network):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
