"""A cache bounded in bytes, for the index tables and slices the pooling functions reuse.

``functools.lru_cache`` bounds the number of entries, not their size: 256 tables of a few MB
each would be GBs. :func:`cached` keeps at most ``max_bytes`` of results per function (the
oldest used go first) and never keeps a result bigger than an eighth of that, so all caches
together stay under :func:`cache_bytes`'s documented bound (docs/semantics.md, "Memory and threads").
Safe from any thread: a lock guards each cache, and cached arrays are read-only.
"""
import sys
import threading
from collections import OrderedDict
from functools import wraps

import numpy as np

CACHES = []  # every cache made by :func:`cached`, to measure and to clear


def size_of(value):
    """Bytes held by ``value``: the data of NumPy arrays, the size of other objects, summed
    through tuples and lists."""
    if isinstance(value, np.ndarray):  # a view counts as the data it shows
        return value.nbytes + sys.getsizeof(np.empty(0))
    if isinstance(value, (tuple, list)):
        return sys.getsizeof(value) + sum(size_of(v) for v in value)
    return sys.getsizeof(value)


class Cache:
    """Results of one function by their arguments, at most ``max_bytes`` in all."""

    def __init__(self, function, max_bytes):
        self.function, self.max_bytes = function, max_bytes
        self.store, self.bytes, self.lock = OrderedDict(), 0, threading.Lock()

    def __call__(self, *key):
        with self.lock:
            if key in self.store:
                self.store.move_to_end(key)  # the most recently used go last
                return self.store[key][0]
        value = self.function(*key)  # outside the lock: two threads may both build it, same result
        size = size_of(value)
        if size <= self.max_bytes // 8:
            with self.lock:
                if key not in self.store:
                    self.store[key] = value, size
                    self.bytes += size
                while self.bytes > self.max_bytes:  # drop the least recently used
                    self.bytes -= self.store.popitem(last=False)[1][1]
        return value

    def cache_clear(self):
        with self.lock:
            self.store.clear()
            self.bytes = 0


def cached(max_bytes):
    """Decorator: cache a function of hashable arguments in at most ``max_bytes``."""
    def decorate(function):
        cache = wraps(function)(Cache(function, max_bytes))
        CACHES.append(cache)
        return cache
    return decorate


def cache_bytes():
    """Bytes held by all caches now."""
    return sum(cache.bytes for cache in CACHES)


def clear_caches():
    """Empty every cache."""
    for cache in CACHES:
        cache.cache_clear()
