"""The shipped 28×28 digit images (``assets/digits.npz``) the 10×784 layer trains on.

They are synthetic: ``scripts/make_digits.py`` drew them once from hand-made
stroke outlines of 0–9 with seeded random jitter and the file is committed, so
every machine trains on exactly the same images and nothing is random or
downloaded at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..paths import asset_path

DIGITS_FILE = "digits.npz"
SIDE = 28


@dataclass(frozen=True)
class Digits:
    """Digit images as rows of pixels.

    Attributes
    ----------
    train_x, test_x : ndarray (N, 784) float64
        Grey values in [0, 1] (0 background, 1 ink), row-major 28×28 images.
    train_y, test_y : ndarray (N,) int64
        Their classes 0–9.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    @property
    def n_train(self) -> int:
        return len(self.train_y)

    @property
    def n_test(self) -> int:
        return len(self.test_y)

    def class_means(self) -> np.ndarray:
        """The mean training image of each class, ``(10, 784)``."""
        return np.stack([self.train_x[self.train_y == c].mean(axis=0) for c in range(10)])


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@lru_cache(maxsize=1)
def load_digits() -> Digits:
    """The shipped images (read once per process; the arrays are read-only)."""
    with np.load(asset_path(DIGITS_FILE)) as f:
        parts = {k: f[k] for k in ("train_x", "train_y", "test_x", "test_y")}
    return Digits(
        _readonly(parts["train_x"].reshape(len(parts["train_x"]), -1).astype(np.float64) / 255.0),
        _readonly(parts["train_y"].astype(np.int64)),
        _readonly(parts["test_x"].reshape(len(parts["test_x"]), -1).astype(np.float64) / 255.0),
        _readonly(parts["test_y"].astype(np.int64)),
    )


def as_images(rows: np.ndarray) -> np.ndarray:
    """Rows of 784 values (e.g. W's 10 rows) as 28×28 images, ``(k, 28, 28)``."""
    rows = np.asarray(rows)
    return rows.reshape(-1, SIDE, SIDE)


__all__ = ["DIGITS_FILE", "SIDE", "Digits", "as_images", "load_digits"]
