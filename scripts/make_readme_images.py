"""Regenerate every image README.md shows, with gpuviz's own command line, or the tests' reference images.

    python scripts/make_readme_images.py                # docs/*.png, the pictures README.md shows
    python scripts/make_readme_images.py --references   # tests/data/reference/*.png instead

The key frames come from one `gpuviz export --deck` run over the presets they belong to (so the deck
command is what rebuilds them) and are copied from the deck into docs/ under stable names; the window is
`python -m gpuviz --screenshot`. Both run offscreen and read no remembered settings, so the pictures depend
only on the presets, the code and the fonts. With --references it runs tests/ui/test_reference_images.py
in its update mode, which exports the reference frames and writes them (look at them before committing).
Exit code 0 when every picture was written, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

#: (preset, picture in its deck folder, file in docs/): the frames README.md shows.
FRAMES = (
    ("04-tiled-64", "step-000.png", "export-matmul-tiled.png"),          # the first tile loaded into shared memory
    ("22-slide-mn-plus-m", "step-003.png", "export-broadcast-fails.png"),  # (4, 3) + (4,): the dimension that fails
    ("30-grad-toy-3x7", "layer.png", "export-grad-outer-product.png"),  # ∇_W L = δ xᵀ on the 3×7 toy
    # measurements saved by `gpuviz bench --op matmul --save docs/speed-matmul.json` (drawn, not re-measured)
    ("docs/speed-matmul.toml", "picture.png", "export-speed-matmul.png"),
    ("50-hardware-h100-waves", "step-062.png", "export-hardware-waves.png"),  # the last wave: the tail, 68 SMs idle
)
SCREENSHOT = "screenshot.png"
SIZE = "1920x1080"


def _run(command: list[str], **kwargs) -> int:
    print("$", " ".join(command), flush=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(command, cwd=ROOT, env={**env, **kwargs.pop("env", {})}, **kwargs).returncode


def _install(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` in one rename, so a failed copy never leaves half a picture in docs/."""
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def readme_images(slide: bool) -> int:
    DOCS.mkdir(exist_ok=True)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="gpuviz-readme-") as tmp:
        deck = Path(tmp) / "deck"
        command = [sys.executable, "-m", "gpuviz", "export", "--deck", *dict.fromkeys(p for p, _, _ in FRAMES),
                   "--size", SIZE, "--out", str(deck)] + (["--slide"] if slide else [])
        if _run(command) != 0:
            print("the deck reported a failure; pictures it did write are still installed", file=sys.stderr)
            failed += 1
        for preset, picture, name in FRAMES:
            source = deck / Path(preset).stem / picture
            if not source.is_file():
                print(f"missing: {source.relative_to(tmp)} (not written by the deck)", file=sys.stderr)
                failed += 1
                continue
            _install(source, DOCS / name)
            print(f"wrote docs/{name}")
    if _run([sys.executable, "-m", "gpuviz", "--screenshot", str(DOCS / SCREENSHOT), "--size", SIZE]) != 0:
        failed += 1
    else:
        print(f"wrote docs/{SCREENSHOT}")
    return 1 if failed else 0


def references() -> int:
    code = _run([sys.executable, "-m", "pytest", "-q", "-s", "tests/ui/test_reference_images.py"],
                env={"GPUVIZ_UPDATE_REFERENCES": "1"})
    return 0 if code == 0 else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", action="store_true",
                        help="write the tests' reference images (tests/data/reference/) instead of docs/")
    parser.add_argument("--no-slide", action="store_true",
                        help="export the key frames in the panel's normal look instead of the slide look")
    args = parser.parse_args(argv)
    if args.references:
        return references()
    return readme_images(slide=not args.no_slide)


if __name__ == "__main__":
    sys.exit(main())
