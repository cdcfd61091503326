"""The terminal demo: ``python -m pooling_lib.cnn.demo``."""
import subprocess
import sys

import pytest

from pooling_lib.cnn.demo import main, text_bar
from pooling_lib.cnn.nn import Progress


@pytest.mark.parametrize("pooling", ["max", "none"])
def test_one_epoch_prints_the_results(capsys, pooling):
    assert main(["--epochs", "1", "--pooling", pooling]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1 [" in out
    for line in ("test accuracy: ", "moved by one pixel: ", "training time: ", "parameters: "):
        assert line in out
    assert ("parameters: 2,730" if pooling == "max" else "parameters: 10,410") in out


def test_in_a_terminal_the_bar_is_redrawn_after_every_batch(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    text_bar(Progress(epoch=2, epochs=10, batch=1, batches=4, loss=0.5, history={}))
    assert capsys.readouterr().out == "\repoch  2/10 [########......................] loss 0.500"


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    for option in ("--epochs", "--pooling {max,avg,none}", "--seed", "--batch-size",
                   "--learning-rate", "(default: 15)"):
        assert option in out


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--epochs", "-3"], "argument --epochs: must be at least 1, got -3"),
    (["--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    (["--pooling", "median"], "argument --pooling: invalid choice: 'median' (choose from"),
    (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["--learning-rate", "-0.1"], "argument --learning-rate: must be positive, got -0.1"),
    (["--learning-rate", "nan"], "argument --learning-rate: must be positive, got nan"),
    (["--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
    (["--colour", "red"], "unrecognized arguments: --colour red"),
])
def test_bad_options_exit_with_code_2_and_one_clear_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith(f"python -m pooling_lib.cnn.demo: error: {message}")


def test_it_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "pooling_lib.cnn.demo", "--epochs", "0"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--epochs: must be at least 1" in result.stderr
