"""The gradient panel's colour scale, Qt-free: CIE L*a*b*, ΔE (CIE76) and a diverging scale that shows small entries.

A gradient's entries span decades: in one digit's 10×784 gradient the true class's row is about ten
times the others', so a linear ±max scale paints the other rows nearly the colour of 0. The
:class:`DivergingScale` maps |value| on a logarithmic scale over :data:`DECADES` decades below the
largest entry, and starts every entry of at least :data:`FLOOR` × the largest at a colour that differs
from the zero colour by at least ``min_delta_e`` (CIE76), in both signs. Entries below the floor fade
linearly to the zero colour; exact zeros are the zero colour.
"""

from __future__ import annotations

import numpy as np

#: The smallest magnitude, as a fraction of the largest, that must stand out from 0.
FLOOR = 0.01
#: Decades between FLOOR and the largest entry: log10(1 / FLOOR).
DECADES = 2
#: Okabe & Ito's blue and vermillion (Color Universal Design): a diverging pair for all common colour-vision types.
NEGATIVE = (0, 114, 178)
POSITIVE = (213, 94, 0)

# CIE XYZ of the D65 white point (sRGB's), Y normalised to 1
_WHITE = np.array([0.95047, 1.0, 1.08883])
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


def srgb_to_lab(rgb) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB colours given as 0–255 values; ``rgb`` has shape (..., 3)."""
    c = np.asarray(rgb, float)[..., :3] / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ _SRGB_TO_XYZ.T / _WHITE
    eps, kappa = (6 / 29) ** 3, (29 / 6) ** 2 / 3
    f = np.where(xyz > eps, np.cbrt(xyz), kappa * xyz + 4 / 29)
    L = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def delta_e(rgb1, rgb2) -> np.ndarray:
    """CIE76 colour difference ΔE*ab between sRGB colours (0–255), broadcast over leading axes."""
    return np.linalg.norm(srgb_to_lab(rgb1) - srgb_to_lab(rgb2), axis=-1)


def log_position(values, limit: float, start: float) -> np.ndarray:
    """Each value's place on the scale, −1 … 1: its sign, and for |v| ≥ FLOOR·limit
    ``start + (1 − start) · log10(|v| / (FLOOR·limit)) / DECADES``; below that, linear from 0 to ``start``."""
    limit = float(limit) if limit > 0 else 1.0
    t = np.abs(np.asarray(values, float)) / limit
    with np.errstate(divide="ignore"):
        big = start + (1 - start) * np.log10(np.maximum(t, FLOOR) / FLOOR) / DECADES
    pos = np.where(t >= FLOOR, np.minimum(big, 1.0), start * t / FLOOR)
    return np.sign(values) * pos


class DivergingScale:
    """Blue (−) through ``zero`` (0) to vermillion (+), logarithmic in |value|, with a visible floor.

    Parameters
    ----------
    zero : tuple of int
        The colour of 0 (the plot background of the theme).
    negative, positive : tuple of int
        The colours of −limit and +limit.
    min_delta_e : float
        Every entry with |v| ≥ FLOOR × limit differs from ``zero`` by at least this ΔE (CIE76).
    steps : int
        Colours per sign in the lookup table.

    Attributes
    ----------
    start : float
        The place on the scale (0 … 1) of |v| = FLOOR × limit: the first colour ``min_delta_e`` from ``zero``.
    lut : ndarray
        ``2 · steps + 1`` RGBA uint8 colours, from −limit to +limit.
    """

    def __init__(self, zero, negative=NEGATIVE, positive=POSITIVE, min_delta_e: float = 12.0, steps: int = 1024):
        self.zero = tuple(int(v) for v in zero[:3])
        self.steps = int(steps)
        s = np.linspace(0, 1, self.steps + 1)[:, None]
        z = np.array(self.zero, float)
        neg = (z + (np.array(negative[:3], float) - z) * s).round()
        pos = (z + (np.array(positive[:3], float) - z) * s).round()
        # the first step whose colours are min_delta_e from 0 in both signs (and every later one)
        far = np.minimum(delta_e(neg, z), delta_e(pos, z)) >= min_delta_e
        if not far[-1]:
            raise ValueError(f"the ends of the scale are within ΔE {min_delta_e} of the zero colour {self.zero}")
        k0 = int(len(far) - np.argmin(far[::-1]))  # the first index of the last run of True
        self.start = k0 / self.steps
        rgb = np.concatenate([neg[::-1], pos[1:]])
        self.lut = np.concatenate([rgb, np.full((len(rgb), 1), 255)], axis=1).astype(np.uint8)

    def position(self, values, limit: float) -> np.ndarray:
        """Places on the scale, −1 … 1 (:func:`log_position` with this scale's start)."""
        return log_position(values, limit, self.start)

    def rgba(self, values, limit: float, log: bool = True) -> np.ndarray:
        """RGBA uint8 colours of ``values`` (any shape) on a scale of ±``limit``: logarithmic (:meth:`position`),
        or linear (``log=False``: v / limit, for weights, whose entries are all of one size)."""
        if log:
            pos = self.position(values, limit)
        else:
            pos = np.clip(np.asarray(values, float) / (float(limit) if limit > 0 else 1.0), -1.0, 1.0)
        idx = np.rint(pos * self.steps).astype(np.intp) + self.steps
        return np.take(self.lut, idx, axis=0)

    def ticks(self, limit: float) -> list[tuple[float, float]]:
        """(value, place 0 … 1 along the bar) of the scale's ticks: 0 and ±limit·10⁻ᵏ for k = 0 … DECADES."""
        out = [(0.0, 0.5)]
        for k in range(DECADES + 1):
            v = float(limit) * 10.0 ** -k
            p = float(self.position(v, limit))
            out += [(-v, 0.5 - p / 2), (v, 0.5 + p / 2)]
        return sorted(out, key=lambda vp: vp[1])


__all__ = ["DECADES", "FLOOR", "NEGATIVE", "POSITIVE", "DivergingScale", "delta_e", "log_position", "srgb_to_lab"]
