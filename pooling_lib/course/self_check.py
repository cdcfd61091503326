"""Three questions at the end of every lesson, with instant feedback.

``self_check("regions_and_strides")`` shows that lesson's three questions (its notebook's name
without the number: renumbering the series changes nothing here). Each question is a row of
choices to click; the verdict shows at once, with why: a green tick and the reason, or a red
cross and the mistake that leads to that choice. Click as often as you like. Below the three, a
line counts how many are right so far.

Where no Python runs (a static export, GitHub), the same questions show as a page in which
every choice opens to its verdict when clicked (:meth:`SelfCheck.static_html`).

The numbers in questions and choices are computed here with ``pooling_lib``, and the tests
check every answer against the library.
"""
import html
import re
import zlib
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np

from .. import fast
from ..adaptive import bins
from ..geometry import pool_output_size
from ..lp import lp_pool2d
from .exercises import Feedback


class Question(NamedTuple):
    """One multiple-choice question: ``choices[answer]`` is right; ``why[i]`` says why choice
    ``i`` is right, or which mistake leads to it."""
    text: str       # may hold `code`
    choices: tuple  # short texts, all different
    answer: int
    why: tuple      # one sentence per choice


def shuffled(question):
    """``question`` with its choices in a fixed order of its own (the right one is written
    first in this module; here it moves to a place that depends on the question's text)."""
    n = len(question.choices)
    order = np.random.default_rng(zlib.crc32(question.text.encode())).permutation(n)
    return Question(question.text, tuple(question.choices[i] for i in order),
                    int(np.flatnonzero(order == question.answer)[0]),
                    tuple(question.why[i] for i in order))


def grade(question, choice):
    """The :class:`~pooling_lib.course.exercises.Feedback` on picking ``choice`` (an index); its
    sentence is plain text, so a `code` mark loses its backticks."""
    return Feedback(choice == question.answer, question.why[choice].replace("`", ""))


def _code(text):
    """Plain text with `code` as HTML."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


class SelfCheck(widgets.VBox):
    """The questions as a widget: ``.choices[i]`` is question i's buttons (value: the index
    picked, or None), ``.verdicts[i]`` its feedback, ``.score`` the running count."""

    def __init__(self, questions):
        self.questions = tuple(questions)
        self.choices, self.verdicts, rows = [], [], []
        for n, q in enumerate(self.questions, 1):
            buttons = widgets.RadioButtons(options=[(c, i) for i, c in enumerate(q.choices)],
                                           value=None, layout=widgets.Layout(width="auto"))
            verdict = widgets.HTML()
            buttons.observe(self._update, "value")
            self.choices.append(buttons)
            self.verdicts.append(verdict)
            rows.append(widgets.VBox([widgets.HTML(f"<b>{n}.</b> {_code(q.text)}"), buttons, verdict],
                                     layout=widgets.Layout(margin="0 0 0.8em 0")))
        self.score = widgets.HTML(self._score_text())
        super().__init__(rows + [self.score])
        self.add_class("pooling-self-check")

    def _update(self, change=None):
        for q, buttons, verdict in zip(self.questions, self.choices, self.verdicts):
            verdict.value = "" if buttons.value is None else grade(q, buttons.value)._repr_html_()
        self.score.value = self._score_text()

    def _score_text(self):
        answered = [b.value for b in self.choices if b.value is not None]
        right = sum(b.value == q.answer for q, b in zip(self.questions, self.choices))
        if not answered:
            return "<i>Click an answer: the verdict shows at once.</i>"
        return f"<i>{right} of {len(self.questions)} right so far.</i>"

    def static_html(self):
        """The questions as HTML that needs no Python: each choice opens to its verdict."""
        parts = ['<div class="pooling-self-check">']
        for n, q in enumerate(self.questions, 1):
            parts.append(f"<p><b>{n}.</b> {_code(q.text)}</p>")
            for i, choice in enumerate(q.choices):
                parts.append(f"<details><summary>{_code(choice)}</summary>"
                             f"{grade(q, i)._repr_html_()}</details>")
        parts.append("<p><i>Click a choice to see whether it is right, and why.</i></p></div>")
        return "\n".join(parts)

    def static_text(self):
        """The questions as plain text, choices lettered, no answers."""
        lines = []
        for n, q in enumerate(self.questions, 1):
            lines.append(f"{n}. {q.text}")
            lines += [f"   {'abcdefgh'[i]}) {c}" for i, c in enumerate(q.choices)]
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["text/html"] = self.static_html()  # shown where widgets are not
        data["text/plain"] = self.static_text()
        return bundle


def self_check(lesson):
    """The self-check of ``lesson`` (a key of :data:`QUESTIONS`) as a :class:`SelfCheck`, each
    question's choices in its own order (:func:`shuffled`)."""
    if lesson not in QUESTIONS:
        raise ValueError(f"lesson must be one of {sorted(QUESTIONS)}, got {lesson!r}")
    return SelfCheck(shuffled(q) for q in QUESTIONS[lesson]())


def _size(n):
    return f"{n} × {n}"


# --- the questions, lesson by lesson ------------------------------------------------------------
# Each is a function, so the numbers are worked out by pooling_lib when the questions are shown.
# The right choice is written first; self_check shows the choices in another order.

def start_here():
    return (
        Question("A 2 × 2 max pool with stride 2 takes a 6 × 6 feature map to which size?",
                 (_size(pool_output_size(6, 2, 2)), _size(pool_output_size(6, 2, 1)), _size(6 - 2)),
                 0, ("Right: the windows tile the map, 2 cells each way, so each side halves.",
                     "That is stride 1: windows that overlap, one step at a time.",
                     "That subtracts the window instead of stepping over the map with it.")),
        Question("What does a pooling layer learn during training?",
                 ("A weight for every cell of its window", "Nothing: it has no weights",
                  "The best region size"),
                 1, ("That is a convolution. Pooling applies a fixed rule (max or mean).",
                     "Right: region, stride and the rule are chosen by hand; only gradients pass "
                     "through it.",
                     "Region and stride are settings you choose before training.")),
        Question("A bright cell moves by one pixel but stays in the same 2 × 2 window. "
                 "What happens to the max-pooled output?",
                 ("It moves by one pixel too", "Nothing: that window's maximum is the same",
                  "It becomes smaller"),
                 1, ("A pooled output moves only when the cell crosses into another window.",
                     "Right: that is the small shift pooling does not notice.",
                     "The maximum is the same value, wherever it sits in the window.")),
    )


def convolution_and_feature_maps():
    return (
        Question("A 3 × 3 kernel slides over a 6 × 6 image, stride 1, no padding. "
                 "What size is the feature map?",
                 (_size(pool_output_size(6, 3, 1)), _size(6), _size(6 // 3)),
                 0, ("Right: 6 − 3 + 1 = 4 positions fit along each side.",
                     "That needs padding: without it the kernel cannot centre on the border cells.",
                     "That divides by the kernel size, as if the kernel jumped 3 cells at a time.")),
        Question("A convolution layer with 8 kernels looks at a one-channel image. What comes out?",
                 ("One feature map, the sum of 8", "8 feature maps, one per kernel",
                  "8 numbers, one per kernel"),
                 1, ("Each kernel keeps its own map; nothing adds them up.",
                     "Right: every kernel slides over the whole image and draws its own map.",
                     "A kernel gives a number at every position, so a whole map.")),
        Question("A max pool then meets those 8 feature maps. What does it do?",
                 ("Pools each map on its own: 8 smaller maps",
                  "Takes the largest of the 8 maps at every cell", "Merges them into one map"),
                 0, ("Right: pooling works plane by plane; the channels stay apart.",
                     "That would pool across channels; pooling in a CNN stays within each map.",
                     "The number of maps (channels) does not change in pooling.")),
    )


def regions_and_strides():
    return (
        Question("A 7 × 7 input, a 3 × 3 region, stride 2. What is the output size?",
                 (_size(pool_output_size(7, 3, 2)), _size(-(-7 // 2)), _size(7 - 3 + 1)),
                 0, ("Right: (7 − 3) // 2 + 1 = 3.",
                     "That rounds 7 / 2 up, as if the last window could stick out of the input.",
                     "That is stride 1: 7 − 3 + 1.")),
        Question("A 3 × 3 input, a 2 × 2 region, stride 1. How many pools (output cells)?",
                 (str(pool_output_size(3, 2, 1) ** 2), str(3 * 3 // (2 * 2)), str(3 * 3)),
                 0, ("Right: 2 positions along each axis, so 2 × 2 = 4.",
                     "That counts windows that do not overlap; with stride 1 they do.",
                     "That is one pool per input cell; windows must fit inside the input.")),
        Question("Region 2 × 2, stride 3. What happens?",
                 ("Some input cells are never looked at", "Windows overlap",
                  "The output is bigger than the input"),
                 0, ("Right: the windows jump 3 cells but cover only 2, leaving a gap.",
                     "Windows overlap when the stride is smaller than the region.",
                     "Pooling never makes the output bigger than the input here.")),
    )


def max_vs_average():
    window = np.array([[1, 9], [2, 0]])
    mean = fast.avg_pool2d(window, 2)[0, 0]
    return (
        Question("Average pooling of the window `[[1, 9], [2, 0]]` gives?",
                 (f"{mean:g}", f"{window.max():g}", f"{window.sum():g}"),
                 0, (f"Right: (1 + 9 + 2 + 0) / 4 = {mean:g}.",
                     "That is max pooling.",
                     "That is the sum: divide by the 4 cells.")),
        Question("A thin bright line of 8s crosses a 2 × 2 window on a background of 0s "
                 "(two cells of each). Which pooling keeps the line as bright?",
                 ("Max pooling", "Average pooling", "Both"),
                 0, ("Right: max keeps 8; average gives 4, the line fades.",
                     "Average mixes in the background: (8 + 8 + 0 + 0) / 4 = 4.",
                     "Average halves it: only max keeps 8.")),
        Question("One noisy pixel is much brighter than its window. Which pooling does it "
                 "sway the least?",
                 ("Average pooling", "Max pooling", "Neither: both output it"),
                 0, ("Right: averaging shares it with the other cells.",
                     "Max pooling outputs that noisy pixel as the window's value.",
                     "Only max outputs it; the average dilutes it.")),
    )


def forward_pass():
    shape, k = (2, 3, 4, 4), 2
    runs = shape[0] * shape[1] * pool_output_size(shape[2], k, k) * pool_output_size(shape[3], k, k)
    return (
        Question(f"Max pooling with a {k} × {k} region at stride {k} over x of shape "
                 f"`{shape}`. How many times does the loop body (one window) run?",
                 (str(runs), str(runs // (shape[0] * shape[1])), str(int(np.prod(shape)))),
                 0, (f"Right: {shape[0]} samples × {shape[1]} channels × 2 × 2 windows.",
                     "That is one plane: every sample and channel has its own windows.",
                     "That is one run per input cell; a window takes 4 cells at once.")),
        Question("What must a max pooling layer keep from `forward` for `backward`?",
                 ("Its input (or where each maximum was)", "Nothing", "Only the output's shape"),
                 0, ("Right: backward sends each gradient to its window's maximum, so it must "
                     "know where that was.",
                     "Without the input, backward cannot tell which cell won.",
                     "The shape says how big the gradient is, not where it goes.")),
        Question("Going from one plane `(H, W)` to a batch `(N, C, H, W)` changes what?",
                 ("Two more loops outside; the window code stays",
                  "The window must become 4-D", "The output-size formula"),
                 0, ("Right: every sample and channel is pooled on its own, the same way.",
                     "Windows stay 2-D: pooling never mixes samples or channels.",
                     "H and W give the output size, whatever N and C are.")),
    )


def backward_pass():
    up, cells = 8, 4
    return (
        Question("A 2 × 2 max pool: one window's maximum is at its top-right cell, and its "
                 "upstream gradient is 5. What does the top-left cell get?",
                 ("0", "5", "1.25"),
                 0, ("Right: only the winner gets gradient; the other cells did not change the output.",
                     "5 goes to the winner alone, the top-right cell.",
                     "That splits it as average pooling would.")),
        Question(f"A 2 × 2 average pool, upstream gradient {up}. What does each cell of the "
                 "window get?",
                 (f"{up / cells:g}", f"{up:g}", "0"),
                 0, (f"Right: each cell counted 1/{cells} in the mean, so it gets {up}/{cells}.",
                     "That forgets the division by the window's size.",
                     "In average pooling every cell counts, not only a winner.")),
        Question("3 × 3 windows at stride 1: a cell wins two windows, whose upstream "
                 "gradients are 1 and 2. What does the cell get?",
                 ("3", "2", "1"),
                 0, ("Right: it changed both outputs, so the gradients add up (`+=`).",
                     "That is the `=` bug: the second window overwrote the first.",
                     "Both windows count, not only the first.")),
    )


def padding_and_output_size():
    return (
        Question("A row of 6 cells, a 3 × 3 pool, stride 2, padding 1. How many windows?",
                 (str(pool_output_size(6, 3, 2, 1)), str(pool_output_size(6, 3, 2)),
                  str(pool_output_size(6, 3, 2, 1, ceil_mode=True))),
                 0, ("Right: (6 + 2 − 3) // 2 + 1 = 3.",
                     "That forgets the padding: the padded row is 2·P cells longer.",
                     "That rounds up, as ceil_mode=True would; the default rounds down.")),
        Question("Why does max pooling pad with −∞ and not with 0?",
                 ("So a padding cell never wins, even if all real cells are negative",
                  "Because 0 is slower", "It makes no difference"),
                 0, ("Right: a 0 would beat negative feature values and invent a maximum.",
                     "Speed has nothing to do with it: the answer would change.",
                     "It does when a window's real cells are all negative.")),
        Question("A 2 × 2 pool with dilation 2 spans how many cells along one axis?",
                 (str(2 * (2 - 1) + 1), "2", "4"),
                 0, ("Right: eff = d·(F − 1) + 1 = 3: cells 0 and 2.",
                     "It still reads 2 cells, but they are 2 apart.",
                     "That multiplies F by d; the last tap is at (F − 1)·d.")),
    )


def global_adaptive_and_unpooling():
    split = bins(5, 3)
    return (
        Question("Global average pooling on feature maps of shape `(64, 7, 7)` gives which shape?",
                 ("(64, 1, 1)", "(1, 7, 7)", "(64, 7, 7)"),
                 0, ("Right: one number per map; the channels stay.",
                     "That would average across channels; pooling stays within each map.",
                     "Global pooling takes the whole map as its one window.")),
        Question("Adaptive pooling of 5 cells into 3 bins. Which bins does it use?",
                 (", ".join(f"{a}–{b - 1}" for a, b in split), "0–1, 2–3, 4", "0–1, 2–3, 4–5"),
                 0, ("Right: bin i runs from floor(i·5/3) to ceil((i + 1)·5/3) − 1; "
                     "neighbouring bins may share a cell.",
                     "Bins cover the input evenly from both ends; none is left with one cell here.",
                     "There is no cell 5: the input has cells 0 to 4.")),
        Question("`max_unpool2d(pooled, indices)` returns what?",
                 ("The maxima back in their places, 0 elsewhere", "The original input",
                  "The pooled values repeated over each window"),
                 0, ("Right: the indices say where each maximum came from; the rest is lost.",
                     "Only the maxima survived pooling; the other cells cannot come back.",
                     "That is nearest-neighbour upsampling, not unpooling.")),
    )


def fast_pooling():
    k, n = 3, 32
    return (
        Question("Why is the per-window Python loop slow?",
                 ("Python's bookkeeping for each window costs far more than the maths",
                  "max is an expensive operation", "The input is copied for every window"),
                 0, ("Right: names, slices, a new array and a reduction set up for a few numbers.",
                     "A maximum of a few numbers is quick; the overhead around it is not.",
                     "A slice is a view, not a copy; the cost is the bookkeeping.")),
        Question(f"im2col for a {k} × {k} pool at stride 1 on a {n} × {n} input: about how many "
                 "copies of each inner cell does the column matrix hold?",
                 (str(k * k), "1", str(k)),
                 0, (f"Right: a cell away from the border sits in {k * k} windows.",
                     "That would be windows that do not overlap (stride = region).",
                     "That counts one axis only; windows overlap along both.")),
        Question("When does the reshape trick work?",
                 ("When the windows tile the input: stride = region, and it divides the size",
                  "For any region and stride", "Only for average pooling"),
                 0, ("Right: then each window is one block of a reshaped array.",
                     "Overlapping or gapped windows are not blocks of a reshape.",
                     "It works for max and average alike: reduce the block either way.")),
    )


def ties_and_gradient_checks():
    tie = np.array([[3.0, 7.0], [7.0, 1.0]])
    shares = fast.max_pool2d_backward(np.ones((1, 1)), tie, 2, ties="split")
    return (
        Question("A 2 × 2 window holds `[[3, 7], [7, 1]]` and sends back gradient 1. With "
                 "`ties=\"first\"`, which cell gets it?",
                 ("The top-right 7", "The bottom-left 7", "Both 7s, 1 each"),
                 0, ("Right: the first tied cell in reading order, as PyTorch does.",
                     "That is `ties=\"last\"`: the last tied cell.",
                     "That is `ties=\"all\"`, which is not a gradient at all.")),
        Question("With `ties=\"split\"`, what does each of the two 7s get?",
                 (f"{shares[0, 1]:g}", "1", "0"),
                 0, ("Right: the two share the 1 equally.",
                     "That gives 2 in total, more than the window sends back.",
                     "Someone has to get the gradient: the maximum does depend on the 7s.")),
        Question("A numerical gradient check fails on a window with a tie. What does that tell you?",
                 ("Nothing about the backward pass: the maximum has no slope there",
                  "The backward pass is wrong", "The step h is too large"),
                 0, ("Right: at a tie the two one-sided slopes differ; check on well-separated values.",
                     "A correct backward pass fails there too: the check, not the code, reaches its limit.",
                     "A smaller h does not help: the slopes on the two sides stay different.")),
    )


def cnn_with_pooling():
    return (
        Question("In the network, where does pooling sit?",
                 ("After a convolution and its ReLU", "Before the first convolution",
                  "After the last dense layer"),
                 0, ("Right: it shrinks the feature maps the convolution made.",
                     "Pooling the raw image throws away detail before any feature is found.",
                     "The dense layer's output is class scores: nothing to pool.")),
        Question("How many parameters does the max pooling layer learn?",
                 ("0", "4, one per cell of its window", "As many as the convolution"),
                 0, ("Right: it only picks maxima; training changes nothing in it.",
                     "A pooling window has no weights: it takes the largest value as it is.",
                     "Only the convolution and the dense layer have weights.")),
        Question("After 2 × 2 max pooling, a pooled map has a bright cell. What does it tell you?",
                 ("The pattern was found somewhere in that 2 × 2 window",
                  "The pattern is at the window's top-left pixel", "The pattern covers the whole window"),
                 0, ("Right: a max keeps the strongest response, not its place inside the window.",
                     "Pooling forgets where inside the window the maximum was.",
                     "One strong cell is enough for a bright pooled cell.")),
    )


def what_pooling_changes():
    side, pooled = 8, pool_output_size(8, 2, 2)  # the network's feature maps, before and after pooling
    growth = (side // pooled) ** 2
    return (
        Question("Take the 2 × 2 pooling out: how many inputs does the dense layer get, "
                 "compared with before?",
                 (f"{growth} times as many", "The same", "Half as many"),
                 0, (f"Right: the maps stay {side} × {side} instead of {pooled} × {pooled}: "
                     f"{growth} times the cells.",
                     "The maps reach the dense layer unshrunk: more cells.",
                     "Without pooling the maps are bigger, not smaller.")),
        Question("Why does each network of the race get its own learning rate?",
                 ("A step size that suits one network can be too small or too large for another",
                  "To make the race take less time", "Because average pooling has no gradient"),
                 0, ("Right: each is compared at its best, chosen on validation digits.",
                     "Tuning takes more time, not less.",
                     "Average pooling has a gradient: 1/k² to every cell of the window.")),
        Question("Shift a test digit by one pixel. What happens to the network's predictions?",
                 ("Most stay the same, but not all", "All stay the same", "Most change"),
                 0, ("Right: pooling absorbs small shifts only when they stay inside a window.",
                     "Pooling is only roughly shift-proof: a shift can cross a window's edge.",
                     "The networks still recognise most shifted digits.")),
    )


def from_average_to_max():
    window = np.array([[3.0, 0.0], [4.0, 0.0]])
    norm = lp_pool2d(window, 2, 2).item()
    return (
        Question("The power mean of a window, (mean of x^p)^(1/p), at p = 1 is?",
                 ("Its average", "Its max", "Its sum"),
                 0, ("Right: the first power and its root change nothing; what is left is the mean.",
                     "The max is where the power mean heads as p grows, not where it starts.",
                     "The mean divides the sum by the number of cells.")),
        Question("As p grows, what does the power mean of a window of positive numbers do?",
                 ("It climbs towards the window's max", "It falls towards the min",
                  "It stays at the average"),
                 0, ("Right: large p makes the largest number dominate the sum of powers.",
                     "Powers favour the large numbers, so the mean goes up, not down.",
                     "Only at p = 1; from there it rises with p.")),
        Question("`pl.lp_pool2d(x, 2, 2)` on the window `[[3, 0], [4, 0]]` gives?",
                 (f"{norm:g}", f"{norm / 2:g}", f"{window.sum():g}"),
                 0, (f"Right: sqrt(9 + 16) = {norm:g}, the Lp norm: no division by the 4 cells.",
                     "That is the power mean; lp_pool2d, like PyTorch, does not divide by the cells.",
                     "That is p = 1, the plain sum.")),
    )


def invariance_and_aliasing():
    from ..cnn.nn import MaxBlurPool
    stripes = np.array([0, 0, 1, 1] * 2, dtype=float)
    moved = np.roll(stripes, 1)
    pooled, pooled_moved = (fast.max_pool2d(s[None], (1, 2))[0] for s in (stripes, moved))

    def show(a):
        return "[" + ", ".join(f"{v:g}" for v in a) + "]"

    x = np.zeros((6, 8))
    x[2:4, 1:3] = [[1, 3], [2, 4]]                      # a small pattern, far from the edge
    follows = [k for k in range(4) if np.array_equal(fast.max_pool2d(np.roll(x, 2, axis=1), 2),
                                                     np.roll(fast.max_pool2d(x, 2), k, axis=1))]
    steps = len(MaxBlurPool().layers)
    return (
        Question("A feature map moves 2 pixels to the right, and nothing falls off its edge. "
                 "What does its 2 × 2 max pooling at stride 2 do?",
                 (f"It moves {follows[0]} cell to the right, with the same values",
                  "It stays as it was", "It moves 2 cells to the right"),
                 0, ("Right: 2 pixels are exactly one window, so every window meets the same "
                     "pixels again, one place further.",
                     "A move of a whole window is not absorbed: the pooled map moves with it.",
                     "A pooled cell stands for 2 pixels: the pooled map moves half as far.")),
        Question(f"Max pooling 2 at stride 2 turns `{show(stripes)}` into `{show(pooled)}`. What "
                 f"does it give for the same stripes moved by one, `{show(moved)}`?",
                 (f"`{show(pooled_moved)}`", f"`{show(pooled)}`", f"`{show(np.roll(pooled, 1))}`"),
                 0, ("Right: every window now holds a 1, so the stripes turn into a solid line. "
                     "That is aliasing: sampling every other place misses the pattern.",
                     "That would be invariance; each window now holds other numbers.",
                     "A move by one pixel is half a pooled cell: the output cannot just move "
                     "by a whole cell.")),
        Question("Why does max-blur pooling blur the maxima before it keeps every other value?",
                 ("So that a one-pixel move changes the kept values a little, not a lot",
                  "So that the network trains faster", "To give the pooling weights to learn"),
                 0, ("Right: the blur spreads every maximum over its neighbours, so the values "
                     "kept jump less when the input moves against the grid.",
                     f"It costs time instead: {steps} pooling steps where max pooling takes one.",
                     "The blur is fixed, [1, 2, 1] / 4: nothing in it is learned.")),
    )


def receptive_fields():
    from ..receptive_field import conv, field_sizes, pool
    three = field_sizes([conv(3)] * 3)[-1].size
    digits = [conv(3, padding=1), pool(2)]               # notebook 10's CNN, up to its pooling
    seen, conv_only = field_sizes(digits)[-1].size, field_sizes(digits[:1])[-1].size
    return (
        Question("Three 3 × 3 convolutions at stride 1, one after the other: how many input "
                 "cells wide is the receptive field of one output cell?",
                 (str(three), str(3 + 3 + 3), str(3 * 3 * 3)),
                 0, (f"Right: each layer adds k − 1 = 2 cells to the 1 cell you start from: "
                     f"1 + 2 + 2 + 2 = {three}.",
                     "Adding the kernel sizes counts the cell they share once per layer: a layer "
                     "widens the field by k − 1, not k.",
                     "Fields grow by adding, not multiplying: 1 + (k − 1) per layer.")),
        Question("A 2 × 2 max pooling at stride 2 sits in the middle of a stack of 3 × 3 "
                 "convolutions. Where does it make the receptive field grow faster?",
                 ("In every layer after it", "Only in the pooling layer itself",
                  "Nowhere: it has no weights"),
                 0, ("Right: it doubles the jump, so every later 3 × 3 layer adds 2·2 = 4 cells "
                     "instead of 2.",
                     "The pooling itself adds only (2 − 1)·jump; its stride is what multiplies "
                     "the growth of the layers after it.",
                     "The field is about which cells a window reads, weights or not: pooling "
                     "widens it like any window.")),
        Question("Notebook 10's CNN: a 3 × 3 convolution with padding 1, then 2 × 2 max "
                 "pooling. How many pixels of the digit does one pooled cell see, away from "
                 "the edges?",
                 (f"{seen} × {seen}", "2 × 2", f"{conv_only} × {conv_only}"),
                 0, (f"Right: 1 + 2·1 + 1·1 = {seen}: the 2 × 2 feature-map cells of a window "
                     f"each see a {conv_only} × {conv_only} patch, and those overlap.",
                     "The pooling window covers 2 × 2 feature-map cells, and each of those "
                     f"already sees {conv_only} × {conv_only} pixels.",
                     "That is one cell of the convolution's map; the pooling adds one more "
                     "cell in each direction.")),
    )


def what_replaces_pooling():
    from ..cnn.nn import Conv2D, count_parameters, make_cnn
    strided = Conv2D(16, 16, 3, padding=1, stride=2)
    learned = strided.weight.size + strided.bias.size
    dense, gap = count_parameters(make_cnn("strided")), count_parameters(make_cnn("strided", head="global"))
    return (
        Question("A convolution with stride 2 whose 2 × 2 kernel is 1/4 everywhere, each map "
                 "from its own channel, computes?",
                 ("Average pooling, 2 × 2 at stride 2", "Max pooling, 2 × 2 at stride 2",
                  "The sum of each window"),
                 0, ("Right: a mean is a weighted sum with equal weights, so the two give the same numbers.",
                     "A maximum is not a weighted sum: no fixed kernel picks the largest cell.",
                     "Weights of 1 would give the sum; 1/4 makes it the mean.")),
        Question("A 3 × 3 convolution at stride 2 takes the place of a 2 × 2 pooling between "
                 "16 maps and 16 maps. How many parameters does the swap add?",
                 (f"{learned:,}", "0", f"{16 * 9 + 16:,}"),
                 0, ("Right: 16 · 16 · 3 · 3 weights and 16 biases; pooling had none.",
                     "Pooling has no parameters; a convolution learns its kernels.",
                     "That is one kernel per map; each output map has a kernel for every input channel.")),
        Question("What does a global-average head put in place of the dense layer?",
                 ("A 1 × 1 convolution to 10 maps, then the mean of each map as its class score",
                  "A max pooling of the whole input", "Nothing: the network ends at the convolution"),
                 0, (f"Right: for this lesson's strided network that means {gap:,} parameters "
                     f"instead of {dense:,}.",
                     "Global max pooling exists too, but the head averages each class map.",
                     "Something must turn the maps into 10 scores: their means do it.")),
    )


def appendix_inside_pooling_lib():
    k = 3
    return (
        Question(f"`pooling_lib` loops over the taps of a window, not over the windows. "
                 f"For a {k} × {k} pool, how many whole-array steps does the search take, "
                 "one axis at a time?",
                 (str(2 * k), str(k * k), "1"),
                 0, (f"Right: {k} along the rows, then {k} down the columns.",
                     f"That is all {k * k} taps at once; one axis at a time needs only 2k.",
                     "One step per tap, not one for everything.")),
        Question("How does `pooling_lib` remember which tap of a window won?",
                 ("A small integer per window", "A copy of every window", "A float mask over the input"),
                 0, ("Right: one byte is enough for windows up to 16 × 16.",
                     "Copying every window is what im2col does, and it costs memory.",
                     "A mask the size of the input is bigger than needed.")),
        Question("Why are small inputs never split over threads?",
                 ("Handing work to threads costs more than pooling them",
                  "Threads give different results", "NumPy cannot use threads"),
                 0, ("Right: threads pay off only when each gets a big chunk.",
                     "Every chunk writes its own cells: the same bits either way.",
                     "NumPy lets go of Python's lock inside its loops, so threads can run together.")),
    )


QUESTIONS = {f.__name__: f for f in (
    start_here, convolution_and_feature_maps, regions_and_strides, max_vs_average, forward_pass,
    backward_pass, ties_and_gradient_checks, padding_and_output_size,
    global_adaptive_and_unpooling, fast_pooling, cnn_with_pooling, what_pooling_changes,
    from_average_to_max, invariance_and_aliasing, receptive_fields,
    what_replaces_pooling, appendix_inside_pooling_lib)}
