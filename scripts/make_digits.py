"""Draw the synthetic 28×28 digit images once into assets/digits.npz (the file is committed).

No network and no fonts: each digit 0–9 is a few hand-made stroke polylines in a
unit box; every image applies its own random affine jitter (rotation, scale,
shear, shift), wobbles the stroke's points, picks a stroke width, renders the
strokes with anti-aliased edges, blurs them a little and adds a little noise to the ink
(the background stays exactly 0).
A fixed seed makes the file reproducible: running this again writes the same
images (given the same NumPy).

Run: ``python scripts/make_digits.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

SIDE = 28
SEED = 20261127
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def arc(cx, cy, rx, ry, a0, a1, n=16):
    """Points of an elliptic arc from angle a0 to a1 (degrees, 90 = top; y grows downwards)."""
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy - ry * np.sin(t)], axis=1)


def line(*points):
    return np.array(points, dtype=np.float64)


def join(*parts):
    return np.concatenate(parts, axis=0)


# Each digit: a list of variants; each variant a list of polylines in a unit box (x right, y down).
STROKES = {
    0: [[arc(0.5, 0.5, 0.3, 0.42, 0, 360, 28)],
        [arc(0.5, 0.5, 0.24, 0.44, 10, 370, 28)]],
    1: [[line((0.32, 0.26), (0.55, 0.06), (0.55, 0.94))],
        [line((0.5, 0.06), (0.5, 0.94))],
        [line((0.34, 0.24), (0.55, 0.06), (0.55, 0.94)), line((0.33, 0.94), (0.77, 0.94))]],
    2: [[join(arc(0.5, 0.3, 0.28, 0.22, 160, -30, 14), line((0.2, 0.92), (0.84, 0.92)))],
        [join(arc(0.48, 0.32, 0.3, 0.24, 170, -40, 14), line((0.22, 0.9), (0.5, 0.8), (0.84, 0.92)))]],
    3: [[arc(0.5, 0.28, 0.26, 0.2, 150, -90, 14), arc(0.5, 0.7, 0.3, 0.22, 90, -150, 14)],
        [line((0.22, 0.08), (0.78, 0.08), (0.45, 0.44)), arc(0.5, 0.68, 0.3, 0.24, 90, -150, 14)]],
    4: [[line((0.66, 0.94), (0.66, 0.06), (0.16, 0.66), (0.86, 0.66))],
        [line((0.3, 0.06), (0.2, 0.56), (0.84, 0.56)), line((0.68, 0.3), (0.66, 0.94))]],
    5: [[line((0.8, 0.08), (0.3, 0.08), (0.26, 0.45)), arc(0.5, 0.66, 0.3, 0.26, 140, -150, 16)]],
    6: [[join(line((0.72, 0.06), (0.45, 0.3), (0.24, 0.64)), arc(0.5, 0.68, 0.26, 0.24, 180, -180, 24))]],
    7: [[line((0.16, 0.1), (0.84, 0.1), (0.4, 0.94))],
        [line((0.16, 0.1), (0.84, 0.1), (0.44, 0.94)), line((0.36, 0.52), (0.78, 0.52))]],
    8: [[arc(0.5, 0.27, 0.22, 0.2, 0, 360, 22), arc(0.5, 0.7, 0.27, 0.23, 0, 360, 22)],
        [join(arc(0.5, 0.27, 0.22, 0.2, -90, 270, 22), arc(0.5, 0.7, 0.27, 0.23, 90, 450, 22))]],
    9: [[arc(0.5, 0.32, 0.27, 0.24, 0, 360, 22), line((0.77, 0.32), (0.7, 0.94))],
        [arc(0.48, 0.3, 0.27, 0.22, 0, 360, 22), line((0.75, 0.32), (0.5, 0.94))]],
}

# pixel centres, (784, 2) in (x, y)
_YS, _XS = np.mgrid[0:SIDE, 0:SIDE]
_CENTRES = np.stack([_XS.ravel() + 0.5, _YS.ravel() + 0.5], axis=1)


def _distance_to_segments(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest distance from each point (P, 2) to the segments a→b (S, 2)."""
    ab = b - a
    length2 = np.maximum((ab ** 2).sum(axis=1), 1e-12)
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((points[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1)


def _blur(img: np.ndarray, amount: float) -> np.ndarray:
    """A light separable [a, 1, a] blur (normalised)."""
    k = np.array([amount, 1.0, amount]) / (1 + 2 * amount)
    padded = np.pad(img, 1)
    rows = k[0] * padded[:, :-2] + k[1] * padded[:, 1:-1] + k[2] * padded[:, 2:]
    return k[0] * rows[:-2] + k[1] * rows[1:-1] + k[2] * rows[2:]


def draw(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One 28×28 uint8 image of ``digit`` with random jitter."""
    variants = STROKES[digit]
    strokes = variants[rng.integers(len(variants))]
    angle = math.radians(rng.uniform(-14, 14))
    scale = rng.uniform(0.82, 1.08)
    aspect = rng.uniform(0.85, 1.15)
    shear = rng.uniform(-0.3, 0.3)
    # the digit's unit box becomes ~20 px tall, centred near the middle as in MNIST
    size = 20.0 * scale
    A = np.array([[size * aspect, shear * size], [0.0, size]])
    R = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    M = R @ A
    shift = np.array([SIDE / 2, SIDE / 2]) + rng.uniform(-2.0, 2.0, size=2)
    seg_a, seg_b = [], []
    for poly in strokes:
        pts = poly + rng.normal(0.0, 0.018, size=poly.shape)  # hand wobble
        pix = (pts - 0.5) @ M.T + shift
        seg_a.append(pix[:-1])
        seg_b.append(pix[1:])
    d = _distance_to_segments(_CENTRES, np.concatenate(seg_a), np.concatenate(seg_b))
    width = rng.uniform(1.5, 3.2)
    img = np.clip(width / 2 + 0.5 - d, 0.0, 1.0).reshape(SIDE, SIDE)
    img = _blur(img, rng.uniform(0.1, 0.4))
    img = img * rng.uniform(0.8, 1.0) + rng.normal(0.0, 0.03, size=img.shape)
    # the background stays exactly 0, as in scanned digits after thresholding: those pixels'
    # gradient entries are exactly 0, which the panel shows, and the file compresses well
    img[img < 0.08] = 0.0
    return np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)


def make(n_train: int, n_test: int, seed: int = SEED):
    rng = np.random.default_rng(seed)

    def part(count):
        labels = np.arange(count) % 10
        rng.shuffle(labels)
        images = np.stack([draw(int(c), rng) for c in labels])
        return images, labels.astype(np.uint8)

    train_x, train_y = part(n_train)
    test_x, test_y = part(n_test)
    return train_x, train_y, test_x, test_y


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Draw the synthetic digit images into assets/digits.npz.")
    p.add_argument("--train", type=int, default=3000, help="training images (default 3000)")
    p.add_argument("--test", type=int, default=1000, help="held-out images (default 1000)")
    p.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    p.add_argument("--out", type=Path, default=ASSETS / "digits.npz", help="output file")
    args = p.parse_args(argv)
    train_x, train_y, test_x, test_y = make(args.train, args.test, args.seed)
    with open(args.out, "wb") as f:
        np.savez_compressed(f, train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y,
                            seed=np.array(args.seed), source=np.array("synthetic: scripts/make_digits.py"))
    print(f"wrote {len(train_y)} training and {len(test_y)} held-out 28×28 images to {args.out} "
          f"({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
