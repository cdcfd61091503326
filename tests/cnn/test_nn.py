"""The CNN of notebook 10: gradient checks of every layer, shapes, errors, data, training."""
import numpy as np
import pytest

import pooling_lib as pl
from pooling_lib.cnn import nn
from pooling_lib.cnn.data import load_digits_split, shift


def distinct(shape, seed=0):
    """Well-separated values around 0 (a shuffled arange), so no ReLU kink is within h."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2 + 0.5) * 0.1


def normal(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def check_input_gradient(layer, x):
    g = normal(layer.forward(x).shape)
    numeric = pl.numerical_gradient(layer.forward, x, g)
    layer.forward(x)
    assert pl.relative_error(layer.backward(g, 0.0), numeric) < 1e-7


def check_parameter_gradients(layer, x):
    """Numerical gradients of sum(forward(x) * g) by each parameter against the layer's own."""
    g = normal(layer.forward(x).shape)
    layer.backward(g, 0.0)  # learning rate 0: keeps the gradients, moves nothing
    for param, analytic in zip(layer.parameters(), (layer.weight_gradient, layer.bias_gradient)):
        saved = param.copy()

        def f(value, param=param):
            param[...] = value
            return layer.forward(x)

        numeric = pl.numerical_gradient(f, saved, g)
        param[...] = saved
        assert pl.relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("padding, stride", [(0, 1), (1, 1), (2, 1), (1, 2), (0, 2), (2, 3)])
def test_conv2d_gradients(padding, stride):
    layer = nn.Conv2D(2, 3, 3, padding=padding, stride=stride, seed=4)
    layer.bias[:] = normal(3, seed=5)
    x = distinct((2, 2, 5, 4))
    check_input_gradient(layer, x)
    check_parameter_gradients(layer, x)


def loop_conv(x, w, b, padding, stride):
    """The convolution written out: every output cell is a window of the padded input times the
    kernel, summed. x (N, C, H, W), w (O, C, k, k) -> (N, O, oh, ow)."""
    N, C, H, W = x.shape
    O, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    out = np.zeros((N, O, oh, ow))
    for n, o, i, j in np.ndindex(N, O, oh, ow):
        window = xp[n, :, i * stride:i * stride + k, j * stride:j * stride + k]
        out[n, o, i, j] = np.sum(window * w[o]) + b[o]
    return out


@pytest.mark.parametrize("k, padding, stride, size", [(3, 1, 2, (8, 8)), (3, 0, 2, (7, 6)),
                                                     (2, 0, 2, (6, 5)), (3, 1, 3, (5, 9)),
                                                     (1, 0, 2, (5, 5))])
def test_strided_conv2d_is_the_loop_and_has_the_pooling_output_size(k, padding, stride, size):
    layer = nn.Conv2D(2, 3, k, padding=padding, stride=stride, seed=1)
    layer.bias[:] = normal(3, seed=2)
    x = normal((2, 2, *size), seed=3)
    out = layer.forward(x)
    np.testing.assert_allclose(out, loop_conv(x, layer.weight, layer.bias, padding, stride),
                               atol=1e-12)
    assert out.shape[2:] == tuple(pl.pool_output_size(n, k, stride, padding) for n in size)


def test_average_pooling_is_a_convolution_with_a_uniform_kernel():
    x = normal((2, 3, 8, 8), seed=4)
    conv = nn.Conv2D(3, 3, 2, stride=2)
    conv.weight[:] = 0
    for c in range(3):       # each map only from its own channel: 1/4 on each of the 2x2 cells
        conv.weight[c, c] = 1 / 4
    np.testing.assert_allclose(conv.forward(x), pl.avg_pool2d(x, 2), atol=1e-15)


@pytest.mark.parametrize("layer", [nn.GlobalAvgPool(), nn.MaxBlurPool()], ids=repr)
def test_pooling_heads_pass_the_gradient_check(layer):
    check_input_gradient(layer, distinct((2, 3, 6, 4)))


def test_max_blur_pool_is_max_at_stride_1_then_a_1_2_1_blur_at_stride_2():
    x = normal((2, 3, 8, 6), seed=6)
    dense_max = pl.max_pool2d(x, 2, stride=1)                          # (2, 3, 7, 5)
    padded = np.pad(dense_max, ((0, 0), (0, 0), (1, 1), (1, 1)))       # zeros around
    blur = np.outer([1, 2, 1], [1, 2, 1]) / 16
    expected = np.zeros((2, 3, 4, 3))
    for i, j in np.ndindex(4, 3):
        expected[:, :, i, j] = np.sum(padded[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * blur,
                                      axis=(2, 3))
    np.testing.assert_allclose(nn.MaxBlurPool().forward(x), expected, atol=1e-15)


def test_global_average_pool_is_the_mean_of_each_map():
    x = normal((3, 4, 5, 2), seed=7)
    np.testing.assert_allclose(nn.GlobalAvgPool().forward(x), x.mean(axis=(2, 3)))


def test_dense_gradients():
    layer = nn.Dense(5, 3, seed=4)
    layer.bias[:] = normal(3, seed=5)
    check_input_gradient(layer, distinct((4, 5)))
    check_parameter_gradients(layer, distinct((4, 5)))


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.Sigmoid(), nn.Flatten()], ids=repr)
def test_parameterless_gradients(layer):
    check_input_gradient(layer, distinct((2, 3, 4)))


def test_softmax_cross_entropy_gradient():
    loss, logits, labels = nn.SoftmaxCrossEntropy(), normal((4, 5)), np.array([0, 3, 4, 3])
    numeric = pl.numerical_gradient(lambda z: loss.loss(z, labels), logits, 1.0)
    loss.loss(logits, labels)
    assert pl.relative_error(loss.gradient(), numeric) < 1e-7


@pytest.mark.parametrize("head", nn.HEADS)
@pytest.mark.parametrize("pooling", [*nn.POOLINGS, None])
def test_the_whole_network_passes_the_gradient_check(pooling, head):
    network = nn.make_cnn(pooling, seed=3, channels=2, head=head)
    x = distinct((2, 1, 8, 8))
    g = normal(network.forward(x).shape)
    numeric = pl.numerical_gradient(network.forward, x, g)
    network.forward(x)
    # measured against the largest gradient: the global head's mean makes some cells' gradients
    # tiny, and there the rounding of the numerical estimate (~1e-10) is no small fraction
    assert np.abs(network.backward(g, 0.0) - numeric).max() < 1e-7 * np.abs(numeric).max()


def test_softmax_and_sigmoid_are_stable_for_huge_values():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert nn.SoftmaxCrossEntropy().loss(np.array([[1000.0, -1000.0]]), np.array([1])) == 2000.0
        assert nn.Sigmoid().forward(np.array([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]


def test_shapes_and_parameter_counts():
    x = np.zeros((5, 2, 8, 6))
    assert nn.Conv2D(2, 4, 3).forward(x).shape == (5, 4, 6, 4)
    assert nn.Conv2D(2, 4, 3, padding=1).forward(x).shape == (5, 4, 8, 6)
    conv = nn.Conv2D(2, 4, 5, padding=2)
    assert conv.backward(np.ones(conv.forward(x).shape), 0.1).shape == x.shape
    assert nn.Flatten().forward(x).shape == (5, 96)
    assert nn.Dense(96, 10).forward(np.zeros((5, 96))).shape == (5, 10)
    counts = {p: nn.count_parameters(nn.make_cnn(p)) for p in ("max", "avg", None)}
    conv = 16 * 9 + 16
    assert counts == {"max": conv + 256 * 10 + 10, "avg": 2730, None: conv + 1024 * 10 + 10}
    assert nn.make_cnn("max").forward(np.zeros((3, 1, 8, 8))).shape == (3, 10)
    more = {(p, h): nn.count_parameters(nn.make_cnn(p, head=h))
            for p in ("strided", "blur", "max") for h in nn.HEADS}
    strided_conv = 16 * 16 * 9 + 16
    assert more == {("strided", "dense"): conv + strided_conv + 2570,
                    ("blur", "dense"): 2730, ("max", "dense"): 2730,
                    ("strided", "global"): conv + strided_conv + 16 * 10 + 10,
                    ("blur", "global"): conv + 170, ("max", "global"): conv + 170}
    for pooling in nn.POOLINGS:
        network = nn.make_cnn(pooling)
        assert network.layers[-3].forward(np.zeros((3, 16, 8, 8))).shape[-2:] == (4, 4) \
            or pooling == "strided"
        assert network.forward(np.zeros((3, 1, 8, 8))).shape == (3, 10)


def test_the_same_seed_gives_the_same_first_convolution_whatever_follows():
    first = [nn.make_cnn(p, seed=5, head=h).layers[0].weight for p in [*nn.POOLINGS, None]
             for h in nn.HEADS]
    assert all(np.array_equal(w, first[0]) for w in first)


def test_activations_show_every_layer_output():
    names, outputs = zip(*nn.activations(nn.make_cnn("max"), np.ones((2, 1, 8, 8))))
    assert names == ("Conv2D(1, 16, kernel_size=3, padding=1)", "ReLU()", "MaxPool(pool_size=2)",
                     "Flatten()", "Dense(256, 10)")
    assert [o.shape for o in outputs] == [(2, 16, 8, 8), (2, 16, 8, 8), (2, 16, 4, 4), (2, 256),
                                          (2, 10)]


def test_he_initialisation_has_the_right_spread():
    w = nn.Conv2D(8, 64, 3, seed=0).weight
    assert abs(w.std() - np.sqrt(2 / (8 * 9))) < 0.01 and abs(w.mean()) < 0.01


@pytest.mark.parametrize("call, message", [
    (lambda: nn.Conv2D(1, 16, 3, padding=1).forward(np.zeros((2, 3, 8, 8))),
     "Conv2D(1, 16, kernel_size=3, padding=1) expects input of shape (N, 1, H, W), "
     "got (2, 3, 8, 8)"),
    (lambda: nn.Conv2D(1, 4, 3).forward(np.zeros((8, 8))),
     "Conv2D(1, 4, kernel_size=3) expects input of shape (N, 1, H, W), got (8, 8)"),
    (lambda: nn.Dense(256, 10).forward(np.zeros((4, 100))),
     "Dense(256, 10) expects input of shape (N, 256), got (4, 100)"),
    (lambda: nn.Flatten().forward(np.zeros(3)),
     "Flatten() expects input of shape (N, ...), got (3,)"),
    (lambda: nn.make_cnn("max").forward(np.zeros((2, 1, 6, 6))),
     "Dense(256, 10) expects input of shape (N, 256), got (2, 144)"),
    (lambda: nn.Dense(3, 2).backward(np.zeros((1, 2)), 0.1),
     "Dense.backward was called before forward"),
    (lambda: nn.ReLU().backward(np.zeros(2), 0.1), "ReLU.backward was called before forward"),
    (lambda: nn.Conv2D(1, 1, 3, padding=3), "padding must be in 0..kernel_size - 1 = 2, got 3"),
    (lambda: nn.make_cnn("median"),
     "pooling must be one of 'max', 'avg', 'blur', 'strided' or None, got 'median'"),
    (lambda: nn.make_cnn("max", head="flat"), "head must be 'dense' or 'global', got 'flat'"),
    (lambda: nn.Conv2D(1, 1, 3, stride=0), "stride must be a whole number >= 1, got 0"),
    (lambda: nn.Conv2D(1, 1, 3, stride=1.5), "stride must be a whole number >= 1, got 1.5"),
    (lambda: nn.SoftmaxCrossEntropy().loss(np.zeros((2, 3)), np.array([0, 3])),
     "labels must be ints in 0..2"),
    (lambda: nn.SoftmaxCrossEntropy().loss(np.zeros((2, 3)), np.array([0])),
     "expects logits (N, classes) and labels (N,), got (2, 3) and (1,)"),
    (lambda: nn.train(nn.make_cnn(), np.zeros((4, 1, 8, 8)), np.zeros(4, int), epochs=0),
     "epochs and batch_size must be >= 1"),
    (lambda: nn.train(nn.make_cnn(), np.zeros((4, 1, 8, 8)), np.zeros(3, int)),
     "x and y must hold as many examples, got 4 and 3"),
])
def test_errors_name_the_layer_and_the_shapes(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_a_wrong_output_gradient_shape_is_refused():
    layer = nn.Dense(3, 2)
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"shape \(4, 2\), got \(2, 4\)"):
        layer.backward(np.zeros((2, 4)), 0.1)


def test_a_step_moves_the_parameters_against_the_gradient_with_momentum():
    layer, x = nn.Dense(2, 1, momentum=0.5), np.array([[1.0, 2.0]])
    before = layer.weight.copy()
    for _ in range(2):
        layer.forward(x)
        layer.backward(np.array([[1.0]]), 0.1)  # dW = x.T, db = 1: velocities 1, then 1.5
    assert np.allclose(layer.weight, before - 0.1 * 2.5 * x.T) and np.allclose(layer.bias, [-0.25])
    layer.backward(np.array([[1.0]]), 0.0)
    assert np.allclose(layer.bias, [-0.25])  # learning rate 0 moves nothing, whatever the velocity


# --- data ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


def test_the_split_is_fixed_stratified_and_scaled(digits):
    x_train, y_train, x_test, y_test = digits
    assert x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8)
    assert x_train.min() == 0 and x_train.max() == 1 and x_train.dtype == np.float64
    assert set(np.bincount(y_test)) <= {35, 36, 37}  # each digit about 20 % of its ~180 images
    again = load_digits_split()
    assert all(np.array_equal(a, b) for a, b in zip(digits, again))
    assert not np.array_equal(load_digits_split(seed=1)[3], y_test)


def test_shift_moves_whole_pixels_and_fills_zeros():
    x = np.arange(1, 10).reshape(3, 3)
    assert shift(x, 1, 0).tolist() == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]
    assert shift(x, 0, -1).tolist() == [[2, 3, 0], [5, 6, 0], [8, 9, 0]]
    assert shift(x, -1, 2).tolist() == [[0, 0, 4], [0, 0, 7], [0, 0, 0]]
    assert np.array_equal(shift(x, 0, 0), x)
    assert not shift(x, 3, 0).any() and not shift(x, 0, -9).any()
    assert shift(np.ones((2, 1, 8, 8)), 1, 1).sum() == 2 * 49
    with pytest.raises(TypeError, match="dy must be an int"):
        shift(x, 0.5, 0)


# --- training --------------------------------------------------------------------------------

def train_briefly(digits, seed=0, **options):
    x_train, y_train, x_test, y_test = digits
    network = nn.make_cnn(seed=seed)
    history = nn.train(network, x_train, y_train, epochs=2, seed=seed, test=(x_test, y_test),
                       **options)
    return network, history


def test_two_epochs_reach_90_percent_and_the_history_agrees(digits):
    network, history = train_briefly(digits)
    x_test, y_test = digits[2:]
    assert set(history) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
    assert all(len(values) == 2 for values in history.values())
    assert history["test_accuracy"][-1] == nn.accuracy(network, x_test, y_test) >= 0.9
    assert history["train_loss"][1] < history["train_loss"][0]
    matrix = nn.confusion_matrix(y_test, nn.predict(network, x_test))
    assert matrix.sum() == 360 and np.trace(matrix) == round(history["test_accuracy"][-1] * 360)


def test_training_is_deterministic(digits):
    (a, history_a), (b, history_b) = train_briefly(digits), train_briefly(digits)
    assert history_a == history_b
    assert all(np.array_equal(p, q) for p, q in zip(nn.parameters(a), nn.parameters(b)))
    c, _ = train_briefly(digits, seed=1)
    assert not np.array_equal(nn.parameters(a)[0], nn.parameters(c)[0])


def test_progress_is_reported_after_every_batch(digits):
    seen = []
    network, history = train_briefly(digits, batch_size=500, progress=seen.append)
    assert [(p.epoch, p.batch, p.batches) for p in seen] == [(1, 1, 3), (1, 2, 3), (1, 3, 3),
                                                             (2, 1, 3), (2, 2, 3), (2, 3, 3)]
    assert seen[-1].fraction == 1.0 and seen[-1].history is history
    assert np.isfinite([p.loss for p in seen]).all()


def test_confusion_matrix_counts_true_against_predicted():
    matrix = nn.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], classes=3)
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
