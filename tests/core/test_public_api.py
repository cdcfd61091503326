"""The public names of pooling_lib and their signatures, written out literally: a refactoring
of the core must not change them (docs/semantics.md describes what they do)."""
import inspect

import pooling_lib as pl

SIGNATURES = [
    ("pool_output_size", "(size, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False)"),
    ("max_pool2d",
     "(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)"),
    ("max_pool2d_backward",
     "(grad_output, x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False, ties='first')"),
    ("avg_pool2d",
     "(x, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, "
     "divisor_override=None)"),
    ("avg_pool2d_backward",
     "(grad_output, input_shape, pool_size, stride=None, padding=0, ceil_mode=False, "
     "count_include_pad=True, divisor_override=None)"),
    ("max_unpool2d", "(values, indices, output_size)"),
    ("global_max_pool2d", "(x)"),
    ("global_max_pool2d_backward", "(grad_output, x)"),
    ("global_avg_pool2d", "(x)"),
    ("global_avg_pool2d_backward", "(grad_output, input_shape)"),
    ("adaptive_max_pool2d", "(x, output_size, return_indices=False)"),
    ("adaptive_max_pool2d_backward", "(grad_output, x, output_size)"),
    ("adaptive_avg_pool2d", "(x, output_size)"),
    ("adaptive_avg_pool2d_backward", "(grad_output, input_shape, output_size)"),
    ("max_pool1d",
     "(x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)"),
    ("max_pool1d_backward",
     "(grad_output, x, pool_size, stride=None, padding=0, dilation=1, ceil_mode=False, ties='first')"),
    ("avg_pool1d",
     "(x, pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, "
     "divisor_override=None)"),
    ("avg_pool1d_backward",
     "(grad_output, input_shape, pool_size, stride=None, padding=0, ceil_mode=False, "
     "count_include_pad=True, divisor_override=None)"),
    ("lp_pool2d", "(x, norm_type, pool_size, stride=None, ceil_mode=False)"),
    ("lp_pool2d_backward", "(grad_output, x, norm_type, pool_size, stride=None, ceil_mode=False)"),
    ("Layer", "()"),
    ("MaxPool", "(pool_size, stride=None, padding=0, dilation=1, ceil_mode=False, ties='first')"),
    ("AvgPool", "(pool_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)"),
    ("numerical_gradient", "(f, x, grad_output, h=1e-05)"),
    ("relative_error", "(a, b)"),
]

LAYER_METHODS = [
    ("forward", "(self, input)"),
    ("backward", "(self, output_gradient, learning_rate=None)"),
]


def test_all_lists_exactly_these_names_in_this_order():
    assert pl.__all__ == [name for name, _ in SIGNATURES]


def test_every_public_name_keeps_its_signature():
    for name, signature in SIGNATURES:
        assert str(inspect.signature(getattr(pl, name))) == signature, name


def test_layers_keep_forward_and_backward():
    for layer in (pl.Layer, pl.MaxPool, pl.AvgPool):
        for method, signature in LAYER_METHODS:
            assert str(inspect.signature(getattr(layer, method))) == signature, (layer, method)


def test_the_course_modules_keep_their_names():
    """Names the notebooks and pooling_lib.course call by module path."""
    from pooling_lib import adaptive, fast, im2col, reference
    for module, names in [
        (fast, ["max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward", "TIES"]),
        (reference, ["max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
                     "adaptive_max_pool2d", "adaptive_avg_pool2d"]),
        (im2col, ["im2col", "col2im", "max_pool2d", "max_pool2d_backward", "avg_pool2d",
                  "avg_pool2d_backward"]),
        (adaptive, ["bins"]),
    ]:
        for name in names:
            assert callable(getattr(module, name)) or name == "TIES", (module.__name__, name)
    assert fast.__doc__ and "tap" in fast.__doc__


def test_modes_name_the_functions_and_layers_of_each_mode():
    from pooling_lib import fast
    from pooling_lib.layers import MODES
    assert set(MODES) == {"max", "avg"}
    assert (MODES["max"].forward, MODES["max"].backward, MODES["max"].layer) == \
        (fast.max_pool2d, fast.max_pool2d_backward, pl.MaxPool)
    assert (MODES["avg"].forward, MODES["avg"].backward, MODES["avg"].layer) == \
        (fast.avg_pool2d, fast.avg_pool2d_backward, pl.AvgPool)
