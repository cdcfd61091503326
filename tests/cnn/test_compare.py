"""The fair race of notebook 11: validation split, learning-rate choice, table, plot."""
import numpy as np
import pytest

from pooling_lib.cnn import compare, nn
from pooling_lib.cnn.data import load_digits_split


@pytest.fixture(scope="module")
def small():
    """A few hundred digits, so that a race of one epoch per network takes a second."""
    x_train, y_train, x_test, y_test = load_digits_split()
    return x_train[:300], y_train[:300], x_test[:100], y_test[:100]


def race(data, **options):
    settings = dict(poolings=("max", None), learning_rates=(0.05, 0.2), seeds=(0, 1), epochs=1,
                    data=data)
    return compare.compare_poolings(**{**settings, **options})


def test_the_validation_set_is_carved_from_the_training_set():
    x_train, y_train, _, _ = load_digits_split()
    x_fit, y_fit, x_val, y_val = compare.split_validation(x_train, y_train)
    assert (len(x_fit), len(x_val)) == (1149, 288) and len(y_fit) == 1149
    both = np.concatenate([x_fit, x_val]).reshape(len(x_train), -1)
    assert sorted(map(bytes, both)) == sorted(map(bytes, x_train.reshape(len(x_train), -1)))
    assert abs(np.bincount(y_val) / len(y_val) - np.bincount(y_train) / len(y_train)).max() < 0.01
    again = compare.split_validation(x_train, y_train)
    assert np.array_equal(again[3], y_val) and np.array_equal(again[2], x_val)
    with pytest.raises(ValueError, match="fraction must be between 0 and 1"):
        compare.split_validation(x_train, y_train, fraction=1.0)


def test_the_race_picks_each_poolings_best_validation_rate(small):
    calls = []
    result = race(small, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 8) for k in range(1, 9)]
    assert len(result.runs) == 8 and result.sizes == {"fit": 240, "validation": 60, "test": 100}
    assert result.epochs == 1 and compare.EPOCHS_RACE < nn.EPOCHS
    assert [row["pooling"] for row in result.table] == ["max", "none"]
    for row in result.table:
        scores = result.tuning[row["pooling"]]
        assert set(scores) == {0.05, 0.2}
        assert row["learning_rate"] == max(scores, key=scores.get)
        assert row["validation"] == scores[row["learning_rate"]]
        chosen = [r for r in result.runs
                  if (r.pooling, r.learning_rate) == (row["pooling"], row["learning_rate"])]
        assert row["test_per_seed"] == [nn.accuracy(r.network, *small[2:]) for r in chosen]
        assert row["test"]["min"] <= row["test"]["mean"] <= row["test"]["max"]
        assert 0 <= row["moved"]["min"] <= row["moved"]["max"] <= 1 and row["seconds"] > 0
        kept = [compare.consistency(r.network, small[2]) for r in chosen]
        assert row["consistent"] == compare.spread(kept)
    assert [row["parameters"] for row in result.table] == [2730, 10410]
    for run in result.runs:
        assert run.validation_accuracy == run.validation_correct / 60


def test_the_race_is_deterministic_and_never_looks_at_the_test_labels(small):
    a = race(small)
    b = race(small)
    without_time = [{k: v for k, v in row.items() if k != "seconds"} for row in a.table]
    assert without_time == [{k: v for k, v in row.items() if k != "seconds"} for row in b.table]
    x_train, y_train, x_test, y_test = small
    shuffled = race((x_train, y_train, x_test, np.random.default_rng(0).permutation(y_test)))
    assert shuffled.tuning == a.tuning
    assert [r["learning_rate"] for r in shuffled.table] == [r["learning_rate"] for r in a.table]


def test_a_tie_goes_to_the_smaller_learning_rate(small, monkeypatch):
    def fake(pooling, rate, seed, x_fit, y_fit, x_val, y_val, epochs):  # every rate scores 50
        return compare.Run(compare.name(pooling), rate, seed, 50, 50 / len(y_val), 0.1,
                           nn.make_cnn(pooling, seed=seed))
    monkeypatch.setattr(compare, "train_one", fake)
    result = race(small, learning_rates=(0.3, 0.1, 0.2))
    assert [row["learning_rate"] for row in result.table] == [0.1, 0.1]


def test_history_can_be_skipped_without_changing_the_training(small):
    x, y = small[:2]
    a, b = nn.make_cnn("avg", seed=2), nn.make_cnn("avg", seed=2)
    assert nn.train(a, x, y, epochs=2, seed=2, keep_history=False) == {}
    assert set(nn.train(b, x, y, epochs=2, seed=2)) == {"train_loss", "train_accuracy"}
    assert all(np.array_equal(p, q) for p, q in zip(nn.parameters(a), nn.parameters(b)))


def test_tables_as_text():
    table = [{"pooling": "max", "learning_rate": 0.1, "parameters": 2730, "validation": 0.96,
              "test": compare.spread([0.95, 0.97, 0.96]), "moved": compare.spread([0.5, 0.6]),
              "seconds": 1.25}]
    lines = compare.format_table(table).splitlines()
    assert lines[0].split()[:4] == ["design", "rate", "parameters", "validation"]
    assert lines[1].split() == ["max", "0.1", "2,730", "96.0%", "96.0%", "[95.0%", "–", "97.0%]",
                                "55.0%", "[50.0%", "–", "60.0%]", "1.2", "s"]
    short = compare.format_table(table, columns=("test", "moved"))
    assert "training" not in short and "validation" not in short
    assert short.splitlines()[1].split()[-1] == "60.0%]"
    table[0]["consistent"] = compare.spread([0.7, 0.8])
    assert compare.format_table(table, columns=("consistent",)).splitlines()[1].split() == [
        "max", "0.1", "2,730", "75.0%", "[70.0%", "–", "80.0%]"]
    assert compare.format_tuning({"avg": {0.1: 0.953, 0.4: 0.968}}).splitlines() == [
        "design      rate 0.1   rate 0.4", "avg            95.3%      96.8%"]
    assert compare.spread([1, 2, 3]) == {"mean": 2.0, "std": pytest.approx(0.8165, abs=1e-4),
                                         "min": 1.0, "max": 3.0}


def test_plot_has_a_panel_for_clean_and_moved_digits():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    s = compare.spread
    table = [{"pooling": p, "learning_rate": 0.1, "test": s([0.9, 0.95]), "moved": s([0.5, 0.6])}
             for p in ("max", "avg", "none")]
    figure = compare.plot_comparison(table)
    assert [ax.get_title() for ax in figure.axes] == ["test digits as they are", "moved by one pixel"]
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()][0] == "max\n(rate 0.1)"
    plt.close(figure)
    for row in table:
        row["consistent"] = s([0.6, 0.7])
    figure = compare.plot_comparison(table, panels=("consistent",))
    assert [ax.get_title() for ax in figure.axes] == ["same class after a one-pixel move"]
    plt.close(figure)


def test_consistency_counts_predictions_kept_whatever_the_labels():
    class Constant:          # predicts class 3 for everything: perfectly consistent
        def forward(self, x):
            out = np.zeros((len(x), 10))
            out[:, 3] = 1
            return out

    class Brightest:         # the class is the row of the brightest pixel: moves with the digit
        def forward(self, x):
            rows = np.asarray(x).reshape(len(x), 8, 8).max(axis=2).argmax(axis=1)
            return np.eye(10)[rows]

    x = np.zeros((4, 1, 8, 8))
    x[np.arange(4), 0, [1, 2, 3, 4], 4] = 1
    assert compare.consistency(Constant(), x) == 1.0
    # moved up or down, the brightest row changes; left or right it stays
    assert compare.consistency(Brightest(), x) == 0.5


@pytest.mark.parametrize("design, layers", [
    ("blur", ["Conv2D", "ReLU", "MaxBlurPool", "Flatten", "Dense"]),
    ("strided", ["Conv2D", "ReLU", "Conv2D", "ReLU", "Flatten", "Dense"]),
    ("all-conv", ["Conv2D", "ReLU", "Conv2D", "ReLU", "Conv2D", "GlobalAvgPool"])])
def test_every_design_trains_the_network_it_names(small, design, layers):
    run = compare.train_one(design, 0.1, 0, *small[:2], *small[2:], epochs=1)
    assert [type(layer).__name__ for layer in run.network.layers] == layers
    assert run.pooling == design and 0 <= run.validation_accuracy <= 1


@pytest.mark.parametrize("options, message", [
    (dict(poolings=("max", "median")),
     "pooling must be one of 'max', 'avg', 'none', 'blur', 'strided', 'all-conv' or None, "
     "got 'median'"),
    (dict(seeds=()), "must each name at least one"),
    (dict(learning_rates=(0.1, 0.1)), "learning_rates must not repeat a value, got (0.1, 0.1)"),
])
def test_bad_settings_are_refused_before_any_training(small, options, message):
    with pytest.raises(ValueError) as error:
        race(small, progress=lambda *_: pytest.fail("trained before refusing"), **options)
    assert message in str(error.value)


def test_the_verdict_says_only_what_the_spread_supports():
    s = compare.spread
    table = [{"pooling": "max", "parameters": 2730, "test": s([0.96, 0.97])},
             {"pooling": "strided", "parameters": 5050, "test": s([0.966, 0.98])},
             {"pooling": "all-conv", "parameters": 2650, "test": s([0.90, 0.92])},
             {"pooling": "wide", "parameters": 5460, "test": s([0.976, 0.99])}]
    assert compare.verdict(table).splitlines() == [
        "strided: +0.8 points against max, ranges overlap: no clear difference; "
        "5,050 parameters (1.85×)",
        "all-conv: −5.5 points against max, every seed below every seed of max; "
        "2,650 parameters (0.97×)",
        "wide: +1.8 points against max, every seed above every seed of max; "
        "5,460 parameters (2.00×)"]
    assert "−0.4 points" in compare.verdict(table[:1] + [
        {"pooling": "x", "parameters": 2730, "test": s([0.953, 0.969])}])
