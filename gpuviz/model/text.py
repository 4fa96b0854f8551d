"""One grammar per concept: how gpuviz reads sizes and byte counts, and how it writes times, bytes and counts.

The command line, the window and the exports all read and write these through
this module, so ``1M`` means the same in ``gpuviz bench --sizes`` as in the
Speed tab's field, and a time reads the same in a table, a status line and a
report. Pure Python: no NumPy, Qt or numba needed.
"""

from __future__ import annotations

import math
import re

from .limits import MAX_NUMBER_DIGITS, MAX_SIZE_EXPONENT
from .panel import ParamsError

__all__ = ["SIZE_EXAMPLES", "TextError", "format_bytes", "format_count", "format_duration", "format_ratio",
           "format_size_list", "parse_bytes", "parse_size", "parse_sizes"]


class TextError(ParamsError):
    """Text that does not read as what was asked for; the message is one sentence for the user.

    A :class:`~gpuviz.model.panel.ParamsError`, so a panel that reads a typed field with these
    parsers shows the sentence the way it shows any other refused input.
    """


#: How the size grammar is shown in every refusal.
SIZE_EXAMPLES = "256, 1_000_000, 1e6, 10k or 1M"

# Decimal suffixes: a size is a count of elements, not of bytes (1k = 1,000; 1M = 1,000,000).
_SIZE_SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000}
# a mantissa (with an optional exponent) and an optional k/M suffix; underscores are taken out first
_SIZE_TOKEN = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(?:e(\d+))?([km]?)", re.IGNORECASE | re.ASCII)
# commas, semicolons and blanks all separate sizes: "64, 128 256" and "1k;1M" both read
_SIZE_SEPARATORS = re.compile(r"[,;\s]+")


def _cut(text: str, limit: int = 40) -> str:
    # a refusal names the value, but a 5,000-digit one as its start and its length
    return text if len(text) <= limit else f"{text[:limit - 12]}… ({len(text):,} characters)"


def parse_size(text: str) -> int:
    """One size: ``1000000``, ``1_000_000``, ``1e6``, ``1M`` or ``1k`` (k = 1,000, M = 1,000,000).

    A size is a positive whole number; ``1.5``, ``-3`` and ``0`` raise :class:`TextError`
    with the same sentence. ``1.5k`` (1,500) and ``2.5e3`` (2,500) are whole, so they read.
    """
    token = str(text).strip().replace("_", "")
    match = _SIZE_TOKEN.fullmatch(token)
    value = None
    if match is not None and (len(match.group(1)) > MAX_NUMBER_DIGITS or int(match.group(2) or 0) > MAX_SIZE_EXPONENT):
        # refused before the arithmetic: 10**999999999 takes minutes, a 5,000-digit int() raises
        raise TextError(f"“{_cut(str(text).strip())}” is too large a size: at most {MAX_NUMBER_DIGITS} digits "
                        f"and 10^{MAX_SIZE_EXPONENT}")
    if match is not None:
        mantissa, exponent, suffix = match.groups()
        # exact arithmetic: float("1e30") would read, but not as the whole number typed
        digits, _, decimals = mantissa.partition(".")
        whole = int((digits or "0") + decimals)
        scale = 10 ** int(exponent or 0) * _SIZE_SUFFIX[suffix.lower()]
        numerator, denominator = whole * scale, 10 ** len(decimals)
        if numerator % denominator == 0:
            value = numerator // denominator
    if value is None or value < 1:
        raise TextError(f"“{_cut(str(text).strip())}” is not a whole number of at least 1: write sizes like "
                        f"{SIZE_EXAMPLES}")
    return value


def parse_sizes(text: str) -> list[int]:
    """Sizes separated by commas, semicolons or blanks (``64, 128 256``, ``1k;1M``), each read by :func:`parse_size`."""
    tokens = [t for t in _SIZE_SEPARATORS.split(str(text).strip()) if t]
    if not tokens:
        raise TextError(f"type one or more sizes, separated by commas, like {SIZE_EXAMPLES}")
    return [parse_size(t) for t in tokens]


def format_size_list(sizes) -> str:
    """Sizes as :func:`parse_sizes` reads them back: ``1000, 10k, 1M, 1024`` (k from 10,000, M from 1,000,000)."""
    def one(n: int) -> str:
        if n >= 1_000_000 and n % 1_000_000 == 0:
            return f"{n // 1_000_000}M"
        if n >= 10_000 and n % 1_000 == 0:
            return f"{n // 1_000}k"
        return str(n)

    return ", ".join(one(int(n)) for n in sizes)


# Bare K/M/G/T are binary, as memory is counted; kB/MB/GB/TB are decimal, as disks are sold.
_BYTE_UNITS = {
    "": 1, "b": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gib": 1024**3, "gb": 1000**3,
    "t": 1024**4, "tib": 1024**4, "tb": 1000**4,
}
_BYTES = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", re.ASCII)  # ASCII digits: "٣GiB" is not 3


def parse_bytes(text: str) -> int:
    """``"4GiB"``, ``"512MiB"``, ``"1.5G"`` or ``"2GB"`` in bytes (bare K/M/G/T are binary).

    Raises :class:`TextError` for text that is not a byte size, or is 0 bytes.
    """
    match = _BYTES.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _BYTE_UNITS:
        raise TextError(f"cannot read {_cut(text)!r} as a memory size (e.g. 4GiB, 512MiB)")
    if len(match.group(1)) > MAX_NUMBER_DIGITS:
        # float() of 400 nines is infinity, and int() of that an OverflowError
        raise TextError(f"{_cut(text)!r} has more than the {MAX_NUMBER_DIGITS} digits a memory size may have")
    value = int(float(match.group(1)) * _BYTE_UNITS[unit])
    if value <= 0:
        raise TextError(f"the memory budget must be more than 0 bytes, got {_cut(text)!r}")
    return value


def format_bytes(n: float) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``64.0 MiB``, ``2.0 GiB`` (binary units)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


# (seconds per unit, unit): each shows values below 1000 of itself
_SUBSECOND = ((1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms"))


def _digits(value: float) -> int:
    # three significant digits, but never fewer than one decimal: 1.01 µs, 87.5 µs and 123.4 µs all keep
    # the digit that tells them apart from their neighbours
    return max(1, 2 - math.floor(math.log10(value))) if value > 0 else 1


def _number(value: float, digits: int | None = None) -> str:
    text = f"{value:,.{_digits(value) if digits is None else digits}f}"
    # a whole number reads as one: 35 ms, 1 ms and 100 µs on an axis, not 35.0 ms
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_duration(seconds: float | None) -> str:
    """A time for people: ``95 ns``, ``1.01 µs``, ``123.4 µs``, ``35 ms``, ``2.35 s``, ``2.0 min``, ``1.5 h``.

    Up to 2 minutes: three significant digits and at least one decimal, trailing zeros
    dropped (``1 ms``, ``100 µs``); then minutes, from 2 hours hours, with one decimal
    (``2.0 min``). None or NaN (not measured) is ``–``.
    """
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    s = float(seconds)
    if s < 0:
        return "−" + format_duration(-s)
    for scale, unit in _SUBSECOND:
        value = s / scale
        # compare after rounding: 999.96 µs is shown as 1 ms, not as 1000 µs
        if round(value, _digits(value)) < 1000:
            return f"{_number(value)} {unit}"
    if round(s, _digits(s)) < 120:
        return f"{_number(s)} s"
    # long times keep their one decimal: a budget of "2.0 min" reads as a limit, not as an estimate
    if s < 7200:
        return f"{s / 60:,.1f} min"
    return f"{s / 3600:,.1f} h"


def format_ratio(ratio: float) -> str:
    """How many times: ``412×``, ``41×``, ``3.2×``, ``1×``, ``0.85×``.

    Whole numbers from 20×: more digits would be noise.
    """
    if ratio >= 20:
        return f"{ratio:,.0f}×"
    if ratio >= 1:
        return f"{_number(ratio, 1)}×"
    return f"{ratio:.2g}×"


def format_count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 block``, ``1,024 threads``: the count with thousands separators and the noun in the right number."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"
