"""A fair race between designs of the digits CNN: max, average or no pooling (notebook 11), max
pooling with a blur (notebook 13), a strided convolution and a global-average head (notebook 15).

One training run says little: another learning rate or another seed can change the order. So
every pooling gets the same treatment:

1. a part of the training digits is set aside as a **validation** set (the test digits are
   never used to choose anything);
2. for every learning rate of a small grid and every seed, a network is trained on the rest
   and scored on the validation set;
3. each pooling keeps the learning rate with the best mean validation accuracy over the seeds;
4. only those networks, one per seed, are scored on the test digits: clean, and moved by one
   pixel (mean of up, down, left, right), and on how many of them keep their prediction when
   moved by one pixel.

    result = compare_poolings()                 # 36 trainings of under a second each
    print(format_table(result.table))           # one row per design: mean and spread
    print(format_tuning(result.tuning))         # every rate's validation accuracy, per pooling

Everything is seeded: the same arguments give the same numbers, except the training times.
"""
import time
from typing import NamedTuple

import numpy as np

from .data import load_digits_split, shift
from .nn import EPOCHS, accuracy, count_parameters, make_cnn, predict, train

# name -> (pooling, head) of nn.make_cnn
DESIGNS = {"max": ("max", "dense"), "avg": ("avg", "dense"), "none": (None, "dense"),
           "blur": ("blur", "dense"), "strided": ("strided", "dense"),
           "all-conv": ("strided", "global")}   # no pooling but the global average at the end
POOLINGS = ("max", "avg", None)
LEARNING_RATES = (0.1, 0.2, 0.4, 0.8)
SEEDS = (0, 1, 2)
EPOCHS_RACE = 8   # fewer than nn.EPOCHS: 36 trainings in a notebook must not take minutes
VALIDATION_FRACTION = 0.2
ONE_PIXEL = ((-1, 0), (1, 0), (0, -1), (0, 1))   # up, down, left, right


def name(pooling):
    """How a table names a design: a name of ``DESIGNS``, ``"none"`` for None."""
    return "none" if pooling is None else pooling


def split_validation(x, y, fraction=VALIDATION_FRACTION, seed=0):
    """Carve a stratified, seeded validation set out of a training set: returns
    ``x_fit, y_fit, x_validation, y_validation``."""
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    x_fit, x_val, y_fit, y_val = train_test_split(x, y, test_size=fraction, random_state=seed,
                                                  stratify=y)
    return x_fit, y_fit, x_val, y_val


class Run(NamedTuple):
    """One trained network: its settings, how many validation digits it reads right (and the
    fraction), and its training time in seconds."""
    pooling: str
    learning_rate: float
    seed: int
    validation_correct: int
    validation_accuracy: float
    seconds: float
    network: object


def train_one(pooling, learning_rate, seed, x_fit, y_fit, x_val, y_val, epochs=EPOCHS):
    """Train the network of design ``pooling`` (a name of ``DESIGNS``, or None: no pooling),
    made with ``seed``, on the fit set (batch order seeded by ``seed`` too); return a :class:`Run`
    with its validation accuracy and training time in seconds."""
    layer, head = DESIGNS[name(pooling)]
    network = make_cnn(layer, seed=seed, head=head)
    start = time.perf_counter()
    train(network, x_fit, y_fit, epochs=epochs, learning_rate=learning_rate, seed=seed,
          keep_history=False)
    seconds = time.perf_counter() - start
    correct = int(np.sum(predict(network, x_val) == np.asarray(y_val)))
    return Run(name(pooling), learning_rate, seed, correct, correct / len(y_val), seconds,
               network)


def moved_accuracy(network, x, y, moves=ONE_PIXEL):
    """Mean accuracy on ``x`` moved by each ``(dy, dx)`` of ``moves``."""
    return float(np.mean([accuracy(network, shift(x, dy, dx), y) for dy, dx in moves]))


def consistency(network, x, moves=ONE_PIXEL):
    """The share of ``x`` whose predicted class stays the same when moved by one ``(dy, dx)``
    of ``moves``, averaged over the moves (labels play no part: a wrong answer can be consistent)."""
    before = predict(network, x)
    return float(np.mean([np.mean(predict(network, shift(x, dy, dx)) == before)
                          for dy, dx in moves]))


def spread(values):
    """``{"mean", "std", "min", "max"}`` of a list of numbers (std: the population one)."""
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std()),
            "min": float(values.min()), "max": float(values.max())}


class Comparison(NamedTuple):
    """What :func:`compare_poolings` returns.

    ``table``: one dict per pooling with ``pooling``, ``learning_rate`` (the chosen one),
    ``parameters``, ``validation`` (mean validation accuracy at that rate), ``test``, ``moved``
    and ``consistent`` (each a :func:`spread` over the seeds: accuracy on the test digits, on
    them moved by one pixel, and :func:`consistency`), ``seconds`` (mean training time) and
    ``test_per_seed`` (the test accuracies, in the order of ``seeds``).
    ``tuning``: ``{pooling: {learning_rate: mean validation accuracy}}``.
    ``runs``: every :class:`Run`, in the order they were trained.
    ``sizes``: how many digits were used to fit, validate and test.
    ``epochs``: how many epochs every network trained.
    """
    table: list
    tuning: dict
    runs: list
    sizes: dict
    epochs: int


def compare_poolings(poolings=POOLINGS, learning_rates=LEARNING_RATES, seeds=SEEDS,
                     epochs=EPOCHS_RACE, validation_fraction=VALIDATION_FRACTION, data=None,
                     progress=None):
    """Tune each pooling's learning rate on a validation set, then score it on the test set
    over several seeds. Returns a :class:`Comparison`.

    ``data``: ``(x_train, y_train, x_test, y_test)``, default :func:`load_digits_split`;
    the validation set is carved out of the training part with seed 0. ``progress``: called
    as ``progress(done, total)`` after every training. A tie between two learning rates goes
    to the smaller one.
    """
    if not poolings or not learning_rates or not seeds:
        raise ValueError("poolings, learning_rates and seeds must each name at least one")
    for what, values in (("poolings", poolings), ("learning_rates", learning_rates),
                         ("seeds", seeds)):
        if len(set(values)) != len(values):
            raise ValueError(f"{what} must not repeat a value, got {tuple(values)}")
    for pooling in poolings:
        if pooling is not None and pooling not in DESIGNS:
            raise ValueError(f"pooling must be one of {', '.join(map(repr, DESIGNS))} or None, "
                             f"got {pooling!r}")
    x_train, y_train, x_test, y_test = load_digits_split() if data is None else data
    x_fit, y_fit, x_val, y_val = split_validation(x_train, y_train, validation_fraction)
    total, runs = len(poolings) * len(learning_rates) * len(seeds), []
    for pooling in poolings:
        for rate in learning_rates:
            for seed in seeds:
                runs.append(train_one(pooling, rate, seed, x_fit, y_fit, x_val, y_val, epochs))
                if progress:
                    progress(len(runs), total)

    tuning, table = {}, []
    for pooling in map(name, poolings):
        mine = [r for r in runs if r.pooling == pooling]
        correct = {rate: sum(r.validation_correct for r in mine if r.learning_rate == rate)
                   for rate in learning_rates}   # whole digits: a tie is a tie, not rounding
        tuning[pooling] = {rate: correct[rate] / (len(seeds) * len(y_val))
                           for rate in learning_rates}
        best = max(sorted(learning_rates), key=correct.get)   # the first maximum: smallest rate
        chosen = [r for r in mine if r.learning_rate == best]
        # the first time the test digits are looked at: after the choice
        test = [accuracy(r.network, x_test, y_test) for r in chosen]
        table.append({"pooling": pooling, "learning_rate": best,
                      "parameters": count_parameters(chosen[0].network),
                      "validation": tuning[pooling][best],
                      "test": spread(test), "test_per_seed": test,
                      "moved": spread([moved_accuracy(r.network, x_test, y_test)
                                       for r in chosen]),
                      "consistent": spread([consistency(r.network, x_test) for r in chosen]),
                      "seconds": float(np.mean([r.seconds for r in chosen]))})
    sizes = {"fit": len(x_fit), "validation": len(x_val), "test": len(x_test)}
    return Comparison(table, tuning, runs, sizes, epochs)


COLUMNS = {  # column -> (heading, width)
    "validation": ("validation", 12), "test": ("test: mean [min – max]", 25),
    "moved": ("moved 1 px: mean [min – max]", 30),
    "consistent": ("same class moved: mean [min – max]", 36), "seconds": ("training", 10)}


def format_table(table, columns=("validation", "test", "moved", "seconds")):
    """The table as text: one line per design with its rate and parameters, then ``columns``
    (names of ``COLUMNS``): shares as mean [min – max] over the seeds, the mean training time
    in seconds."""
    def interval(s):
        return f"{s['mean']:.1%} [{s['min']:.1%} – {s['max']:.1%}]"

    def value(row, column):
        if column == "validation":
            return f"{row['validation']:.1%}"
        return f"{row['seconds']:.1f} s" if column == "seconds" else interval(row[column])

    widths = (9, 6, 12, *(COLUMNS[c][1] for c in columns))
    header = ("design", "rate", "parameters", *(COLUMNS[c][0] for c in columns))
    rows = [(row["pooling"], f"{row['learning_rate']:g}", f"{row['parameters']:,}",
             *(value(row, c) for c in columns)) for row in table]
    return "\n".join(f"{cells[0]:{widths[0]}}"
                     + "".join(f"{cell:>{width}}" for cell, width in zip(cells[1:], widths[1:]))
                     for cells in [header, *rows])


def verdict(table, key="test"):
    """What the numbers support, one line per design after the first (the baseline): how many
    points its mean ``key`` accuracy differs by, whether that is more than the seeds' spread (the
    ranges from lowest to highest seed do not overlap), and its parameters against the baseline's."""
    base = table[0]
    lines = []
    for row in table[1:]:
        a, b = row[key], base[key]
        points = 100 * (a["mean"] - b["mean"])
        if a["min"] <= b["max"] and b["min"] <= a["max"]:
            how = "ranges overlap: no clear difference"
        else:
            how = f"every seed {'above' if points > 0 else 'below'} every seed of {base['pooling']}"
        sign = "\u2212" if points < 0 else "+"
        lines.append(f"{row['pooling']}: {sign}{abs(points):.1f} points against {base['pooling']}, "
                     f"{how}; {row['parameters']:,} parameters "
                     f"({row['parameters'] / base['parameters']:.2f}\u00d7)")
    return "\n".join(lines)


def format_tuning(tuning):
    """The tuning grid as text: mean validation accuracy of every pooling at every rate."""
    rates = list(next(iter(tuning.values())))
    lines = [f"{'design':9}" + "".join(f"{f'rate {rate:g}':>11}" for rate in rates)]
    for pooling, scores in tuning.items():
        lines.append(f"{pooling:9}" + "".join(f"{scores[rate]:>11.1%}" for rate in rates))
    return "\n".join(lines)


PANELS = {"test": ("test digits as they are", "#0072B2", "test accuracy"),
          "moved": ("moved by one pixel", "#D55E00", "test accuracy"),
          "consistent": ("same class after a one-pixel move", "#009E73", "share of test digits")}


def plot_comparison(table, panels=("test", "moved")):
    """One panel per name of ``panels`` (keys of ``PANELS``; default: test digits as they are
    and moved by one pixel): each design's mean over the seeds, with a bar from its lowest to
    its highest seed. Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    figure, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    x = np.arange(len(table))
    for ax, key in zip(axes[0], panels):
        title, colour, label = PANELS[key]
        means = np.array([row[key]["mean"] for row in table])
        low = means - [row[key]["min"] for row in table]
        high = [row[key]["max"] for row in table] - means
        ax.errorbar(x, means, yerr=[low, high], fmt="o", capsize=5, color=colour)
        ax.set_xticks(x, [f"{row['pooling']}\n(rate {row['learning_rate']:g})" for row in table])
        ax.set_xlim(-0.5, len(table) - 0.5)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    figure.suptitle("dots: mean over the seeds; bars: lowest to highest seed"
                    + (" (each panel has its own scale)" if len(panels) > 1 else ""), fontsize=10)
    figure.tight_layout()
    return figure
