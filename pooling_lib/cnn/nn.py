"""A small convolutional network in NumPy, on the same ``Layer`` API as the pooling layers.

Every layer has ``forward(input)`` and ``backward(output_gradient, learning_rate)``: backward
returns d(loss)/d(input) and takes a gradient-descent step on the layer's parameters, whose
gradients it keeps (``weight_gradient``, ``bias_gradient``) for inspection and checking.
Inputs are batches: ``(N, C, H, W)`` images or ``(N, features)`` vectors. ``Conv2D`` and
``Dense`` take a ``seed`` (an int or a NumPy ``Generator``) for their He initialisation and a
``momentum`` (0, the default, is plain gradient descent).

    network = make_cnn("max")             # conv 3x3 -> ReLU -> max pool 2x2 -> flatten -> dense
    history = train(network, x, y)        # minibatch SGD with momentum, softmax cross-entropy
    accuracy(network, x_test, y_test)     # 0.983
"""
from contextlib import nullcontext
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..adaptive import global_avg_pool2d, global_avg_pool2d_backward
from ..layers import AvgPool, Layer, MaxPool

try:  # comes with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:
    def threadpool_limits(limits):
        return nullcontext()

EPOCHS, BATCH_SIZE, LEARNING_RATE, MOMENTUM = 15, 64, 0.1, 0.9


def check_shape(layer, x, expected):
    """``x`` as a float array of shape ``expected``, a tuple of sizes (ints) and names of free
    axes (strings, e.g. ``("N", 3, "H", "W")``); else a ValueError naming the layer."""
    x = np.asarray(x, dtype=np.float64)
    sizes = [(e, s) for e, s in zip(expected, x.shape) if isinstance(e, int)]
    if x.ndim != len(expected) or any(e != s for e, s in sizes):
        raise ValueError(f"{layer!r} expects input of shape ({', '.join(map(str, expected))}), "
                         f"got {x.shape}")
    return x


# --- layers with parameters ------------------------------------------------------------------

class Parametric(Layer):
    """A layer with a ``weight`` and a ``bias``, trained by gradient descent with momentum:
    ``velocity = momentum * velocity + gradient; parameter -= learning_rate * velocity``.
    ``momentum=0`` is plain gradient descent; 0.9 remembers about the last ten steps."""

    def __init__(self, weight, bias, momentum):
        super().__init__()
        self.weight, self.bias, self.momentum = weight, bias, momentum
        self.velocity = [np.zeros_like(weight), np.zeros_like(bias)]
        self.weight_gradient = self.bias_gradient = None

    def parameters(self):
        return [self.weight, self.bias]

    def step(self, weight_gradient, bias_gradient, learning_rate):
        """Keep the gradients and move the parameters (in place) against them."""
        self.weight_gradient, self.bias_gradient = weight_gradient, bias_gradient
        for p, v, g in zip(self.parameters(), self.velocity, (weight_gradient, bias_gradient)):
            v *= self.momentum
            v += g
            p -= learning_rate * v


def he_normal(rng, shape, fan_in):
    """He initialisation: normal with variance 2 / fan_in, right for ReLU layers."""
    return np.random.default_rng(rng).normal(0.0, np.sqrt(2.0 / fan_in), shape)


class Dense(Parametric):
    """Fully connected layer: y = x @ W + b. x: (N, in_features) -> y: (N, out_features);
    W: (in_features, out_features), b: (out_features,)."""

    def __init__(self, in_features, out_features, seed=0, momentum=0.0):
        self.shape = (in_features, out_features)
        super().__init__(he_normal(seed, self.shape, in_features), np.zeros(out_features), momentum)

    def __repr__(self):
        return f"Dense({self.shape[0]}, {self.shape[1]})"

    def forward(self, input):
        self.input = check_shape(self, input, ("N", self.shape[0]))
        self.output = self.input @ self.weight + self.bias
        return self.output

    def backward(self, output_gradient, learning_rate):
        g = self._output_gradient(output_gradient)
        input_gradient = g @ self.weight.T
        self.step(self.input.T @ g, g.sum(axis=0), learning_rate)
        return input_gradient


def windows_of(x, shape, padding, stride=1):
    """Every window of ``shape`` (kh, kw) of x (N, C, H, W) zero-padded by ``padding``, at
    ``stride``: a view (N, C, oh, ow, kh, kw), no copy but the padding."""
    p = padding
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    return sliding_window_view(padded, shape, axis=(2, 3))[:, :, ::stride, ::stride]


def correlate(x, w, padding, stride=1):
    """Cross-correlation of a batch with a filter bank, zero padding: x (N, C, H, W),
    w (O, C, kh, kw) -> (N, O, oh, ow), oh = floor((H + 2p - kh) / stride) + 1 (ow alike)."""
    windows = windows_of(x, w.shape[2:], padding, stride)   # (N, C, oh, ow, kh, kw)
    return np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)


class Conv2D(Parametric):
    """2-D convolution (cross-correlation, as in every deep-learning library) with zero padding.
    x: (N, C, H, W) -> y: (N, O, oh, ow) with oh = floor((H + 2p - k) / s) + 1 (and ow alike);
    W: (O, C, k, k), b: (O,). ``padding=k // 2`` at stride 1 keeps the size ("same").
    A stride s is the stride-1 result with every s-th row and column kept."""

    def __init__(self, in_channels, out_channels, kernel_size, padding=0, stride=1, seed=0,
                 momentum=0.0):
        if not 0 <= padding < kernel_size:
            raise ValueError(f"padding must be in 0..kernel_size - 1 = {kernel_size - 1}, "
                             f"got {padding}")
        if not (isinstance(stride, (int, np.integer)) and stride >= 1):
            raise ValueError(f"stride must be a whole number >= 1, got {stride!r}")
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        fan_in = in_channels * kernel_size ** 2
        super().__init__(he_normal(seed, shape, fan_in), np.zeros(out_channels), momentum)
        self.padding, self.stride = padding, int(stride)

    def __repr__(self):
        O, C, k, _ = self.weight.shape
        padding = f", padding={self.padding}" if self.padding else ""
        stride = f", stride={self.stride}" if self.stride > 1 else ""
        return f"Conv2D({C}, {O}, kernel_size={k}{padding}{stride})"

    def forward(self, input):
        self.input = check_shape(self, input, ("N", self.weight.shape[1], "H", "W"))
        self.output = (correlate(self.input, self.weight, self.padding, self.stride)
                       + self.bias[:, None, None])
        return self.output

    def backward(self, output_gradient, learning_rate):
        """dx: the output gradient correlated with the flipped kernel (a "full" convolution);
        dW[o, c, i, j] = sum over n, h, w of g[n, o, h, w] * x_padded[n, c, h + i, w + j].
        With a stride, g first goes back to the stride-1 grid, zeros between its cells."""
        g = self._output_gradient(output_gradient)
        k, p, s = self.weight.shape[-1], self.padding, self.stride
        if s == 1:
            weight_gradient = correlate(self.input.transpose(1, 0, 2, 3), g.transpose(1, 0, 2, 3),
                                        p).transpose(1, 0, 2, 3)
        else:   # the same sum, over the windows the stride keeps
            weight_gradient = np.tensordot(g, windows_of(self.input, (k, k), p, s),
                                           axes=([0, 2, 3], [0, 2, 3]))
            N, _, H, W = self.input.shape
            spread = np.zeros((N, len(g[0]), H + 2 * p - k + 1, W + 2 * p - k + 1))
            spread[:, :, ::s, ::s] = g
            g = spread
        flipped = self.weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, O, k, k)
        input_gradient = correlate(g, flipped, k - 1 - p)
        self.step(weight_gradient, g.sum(axis=(0, 2, 3)), learning_rate)
        if input_gradient.shape != self.input.shape:  # rows and columns no window reached
            grown = np.zeros(self.input.shape)
            h, w = input_gradient.shape[2:]
            grown[:, :, :h, :w] = input_gradient
            input_gradient = grown
        return input_gradient


# --- layers without parameters ---------------------------------------------------------------

class Flatten(Layer):
    """(N, ...) -> (N, features), and back."""

    def __repr__(self):
        return "Flatten()"

    def forward(self, input):
        self.input = np.asarray(input)
        if self.input.ndim < 2:
            raise ValueError(f"{self!r} expects input of shape (N, ...), got {self.input.shape}")
        self.output = self.input.reshape(len(self.input), -1)
        return self.output

    def backward(self, output_gradient, learning_rate=None):
        return self._output_gradient(output_gradient).reshape(self.input.shape)


class GlobalAvgPool(Layer):
    """The mean of every feature map, as features: (N, C, H, W) -> (N, C). A network that ends
    with C = 10 maps and this layer needs no dense layer: each map's mean is a class score."""

    def __repr__(self):
        return "GlobalAvgPool()"

    def forward(self, input):
        self.input = check_shape(self, input, ("N", "C", "H", "W"))
        self.output = global_avg_pool2d(self.input)[:, :, 0, 0]
        return self.output

    def backward(self, output_gradient, learning_rate=None):
        g = self._output_gradient(output_gradient)
        return global_avg_pool2d_backward(g[:, :, None, None], self.input.shape)


class Activation(Layer):
    """An element-wise function f with its derivative f': y = f(x), dx = dy * f'(x)."""

    def __repr__(self):
        return f"{type(self).__name__}()"

    def forward(self, input):
        self.input = np.asarray(input, dtype=np.float64)
        self.output = self.f(self.input)
        return self.output

    def backward(self, output_gradient, learning_rate=None):
        return self._output_gradient(output_gradient) * self.derivative()


class ReLU(Activation):
    """max(x, 0); its derivative is 1 where x > 0, else 0."""

    def f(self, x):
        return np.maximum(x, 0.0)

    def derivative(self):
        return self.input > 0


class Sigmoid(Activation):
    """1 / (1 + exp(-x)), computed as exp(-log(1 + exp(-x))) so that it never overflows;
    its derivative is s * (1 - s)."""

    def f(self, x):
        return np.exp(-np.logaddexp(0.0, -x))

    def derivative(self):
        return self.output * (1.0 - self.output)


class Sequential(Layer):
    """Layers applied one after the other; backward runs them in reverse."""

    def __init__(self, layers):
        super().__init__()
        self.layers = list(layers)

    def __repr__(self):
        return "Sequential([" + ", ".join(map(repr, self.layers)) + "])"

    def forward(self, input):
        for layer in self.layers:
            input = layer.forward(input)
        self.output = input
        return input

    def backward(self, output_gradient, learning_rate):
        for layer in reversed(self.layers):
            output_gradient = layer.backward(output_gradient, learning_rate)
        return output_gradient


# --- loss ------------------------------------------------------------------------------------

class SoftmaxCrossEntropy:
    """Softmax and cross-entropy as one step, which is stable and has a simple gradient:
    loss = mean over the batch of -log softmax(z)[label]; d(loss)/dz = (softmax(z) - onehot) / N.
    logits z: (N, classes), labels: (N,) ints in 0..classes - 1."""

    def loss(self, logits, labels):
        z = np.asarray(logits, dtype=np.float64)
        labels = np.asarray(labels)
        if z.ndim != 2 or labels.shape != z.shape[:1]:
            raise ValueError(f"SoftmaxCrossEntropy expects logits (N, classes) and labels (N,), "
                             f"got {z.shape} and {labels.shape}")
        if labels.dtype.kind not in "iu" or np.any((labels < 0) | (labels >= z.shape[1])):
            raise ValueError(f"labels must be ints in 0..{z.shape[1] - 1}, got {labels!r}")
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.probabilities, self.labels = np.exp(log_p), labels
        return -log_p[np.arange(len(z)), labels].mean()

    def gradient(self):
        g = self.probabilities.copy()
        g[np.arange(len(g)), self.labels] -= 1
        return g / len(g)


# --- the network of notebook 10, and what can take its pooling's place ----------------------

class MaxBlurPool(Sequential):
    """Max pooling that aliases less (Zhang, 2019, "Making Convolutional Networks Shift-Invariant
    Again"): the max of every 2x2 window at stride 1, then a blur, then every other cell. The blur
    [1, 2, 1] / 4 along each axis is two 2x2 averages at stride 1, so the blur and the step of 2
    are average pooling twice: (N, C, H, W) -> (N, C, ceil(H / 2), ceil(W / 2)) for even H, W
    (8 x 8 -> 4 x 4, like MaxPool(2))."""

    def __init__(self):
        super().__init__([MaxPool(2, stride=1), AvgPool(2, stride=1, padding=1), AvgPool(2, stride=2)])

    def __repr__(self):
        return "MaxBlurPool()"


# What sits between the convolution (16 maps of 8 x 8) and the head: name -> a function of the
# number of channels and a random generator, returning the layers (they give 16 maps of 4 x 4).
POOLINGS = {
    "max": lambda channels, rng: [MaxPool(2)],
    "avg": lambda channels, rng: [AvgPool(2)],
    "blur": lambda channels, rng: [MaxBlurPool()],
    "strided": lambda channels, rng: [Conv2D(channels, channels, 3, padding=1, stride=2, seed=rng,
                                             momentum=MOMENTUM), ReLU()],
}
HEADS = ("dense", "global")


def make_cnn(pooling="max", seed=0, channels=16, momentum=MOMENTUM, head="dense"):
    """Conv 3x3 (same) -> ReLU -> [pooling] -> head, for (N, 1, 8, 8) digits.

    ``pooling``: "max" or "avg" (2x2), "blur" (:class:`MaxBlurPool`), "strided" (a learned
    3x3 convolution at stride 2, then ReLU: the all-convolutional net's way, Springenberg et al.,
    2014) or None (the maps stay 8 x 8). Every pooling gives 4 x 4 maps.
    ``head``: "dense" (flatten -> dense 10) or "global" (a 1x1 convolution to 10 maps -> the
    mean of each map is its class score: Network in Network's head, Lin et al., 2013).
    The same seed gives the same first convolution, whatever comes after it."""
    if pooling is not None and pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(map(repr, POOLINGS))} or None, "
                         f"got {pooling!r}")
    if head not in HEADS:
        raise ValueError(f"head must be 'dense' or 'global', got {head!r}")
    rng = np.random.default_rng(seed)
    first = Conv2D(1, channels, 3, padding=1, seed=rng, momentum=momentum)
    middle = POOLINGS[pooling](channels, rng) if pooling else []
    for layer in middle:
        if isinstance(layer, Parametric):
            layer.momentum = momentum
    side = 4 if pooling else 8
    if head == "dense":
        last = [Flatten(), Dense(channels * side * side, 10, seed=rng, momentum=momentum)]
    else:
        last = [Conv2D(channels, 10, 1, seed=rng, momentum=momentum), GlobalAvgPool()]
    return Sequential([first, ReLU(), *middle, *last])


def activations(network, x):
    """Run x through the network; every layer's name and output, e.g. the feature maps before and
    after pooling: a list of (name, array) pairs."""
    network.forward(x)
    return [(repr(layer), layer.output) for layer in network.layers]


def parameters(network):
    """Every parameter array of the network's layers."""
    return [p for layer in network.layers if isinstance(layer, Parametric)
            for p in layer.parameters()]


def count_parameters(network):
    """How many numbers training adjusts."""
    return sum(p.size for p in parameters(network))


# --- training and evaluation -----------------------------------------------------------------

class Progress(NamedTuple):
    """What ``train`` passes its ``progress`` callback after every batch (counting from 1).
    After an epoch's last batch, ``history`` already holds that epoch's figures."""
    epoch: int
    epochs: int
    batch: int
    batches: int
    loss: float  # of this batch
    history: dict

    @property
    def fraction(self):
        """How much of the whole training is done, 0..1."""
        return ((self.epoch - 1) * self.batches + self.batch) / (self.epochs * self.batches)


def predict(network, x):
    """Most likely class of every image: (N, ...) -> (N,) ints."""
    return network.forward(x).argmax(axis=1)


def evaluate(network, x, labels):
    """(mean cross-entropy loss, accuracy) of the network on x (N, ...), labels (N,)."""
    logits = network.forward(x)
    loss = SoftmaxCrossEntropy().loss(logits, labels)
    return float(loss), float(np.mean(logits.argmax(axis=1) == labels))


def accuracy(network, x, labels):
    """Fraction of x (N, ...) classified as labels (N,)."""
    return evaluate(network, x, labels)[1]


def record(history, network, sets):
    """Append the network's loss and accuracy on every named (x, labels) set to ``history``."""
    for name, (x, labels) in sets.items():
        loss, correct = evaluate(network, x, labels)
        history.setdefault(f"{name}_loss", []).append(loss)
        history.setdefault(f"{name}_accuracy", []).append(correct)


def confusion_matrix(labels, predictions, classes=10):
    """(classes, classes) counts: row = true class, column = predicted class."""
    pairs = np.asarray(labels) * classes + np.asarray(predictions)
    return np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)


def train(network, x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
          seed=0, progress=None, test=None, keep_history=True):
    """Minibatch gradient descent on softmax cross-entropy, the batches shuffled by ``seed``.

    x: (N, ...), y: (N,) ints; ``test``: optional (x_test, y_test); ``progress``: called with a
    :class:`Progress` after every batch. Returns the history, a dict of per-epoch lists
    ``train_loss``, ``train_accuracy`` (and ``test_loss``, ``test_accuracy`` with ``test``),
    measured on the whole sets after each epoch. ``keep_history=False`` skips those
    measurements (about a fifth of the time on the digits) and returns an empty history.
    """
    if epochs < 1 or batch_size < 1 or not learning_rate > 0:
        raise ValueError(f"epochs and batch_size must be >= 1 and learning_rate > 0, "
                         f"got {epochs}, {batch_size}, {learning_rate}")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must hold as many examples, got {len(x)} and {len(y)}")
    sets, history = {"train": (x, y), **({"test": test} if test is not None else {})}, {}
    rng, criterion = np.random.default_rng(seed), SoftmaxCrossEntropy()
    batches = -(-len(x) // batch_size)
    with threadpool_limits(1):  # small matrices: more BLAS threads only wait on each other
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(x))
            for batch, start in enumerate(range(0, len(x), batch_size), 1):
                i = order[start:start + batch_size]
                loss = criterion.loss(network.forward(x[i]), y[i])
                network.backward(criterion.gradient(), learning_rate)
                if batch == batches and keep_history:
                    record(history, network, sets)
                if progress:
                    progress(Progress(epoch, epochs, batch, batches, float(loss), history))
    return history
