"""Where the files the app ships (presets, calibration) are found.

They live in the repository's top-level ``assets/``; a wheel carries them as
``gpuviz/assets/`` (``pyproject.toml`` force-includes the folder), so the same
call finds them from a checkout, an editable install and a regular install.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def assets_dir() -> Path:
    """The folder of shipped assets."""
    installed = _PACKAGE / "assets"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / "assets"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"gpuviz's assets are missing: looked in {installed} and {checkout}")


def asset_path(*parts: str) -> Path:
    """Path of one shipped asset, e.g. ``asset_path("calibration.toml")``."""
    path = assets_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"gpuviz asset {'/'.join(parts)} is missing from {assets_dir()}")
    return path
