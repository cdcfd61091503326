"""The CNN wing: a small convolutional network in NumPy built around pooling_lib's layers.

``nn`` (the layers, the network, training), ``data`` (scikit-learn's handwritten digits),
``compare`` (a fair race between max, average and no pooling), ``demo`` (the terminal demo:
``python -m pooling_lib.cnn.demo``). It uses the core; the core never uses it.
"""
