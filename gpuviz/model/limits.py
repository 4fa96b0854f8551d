"""The bounds every request is checked against where it enters: a command-line argument, a scenario file,
a field in the window.

One module, no imports beyond the standard library, so that the command line's parser, the scenario reader
and the panels' fields all refuse the same values with the same numbers, and README's "Limits" table is
rendered from here (:func:`limits_table`; a test keeps README equal to it). A value outside a bound is
refused in one sentence that names the value and the bound, before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024**2
GIB = 1024**3
TIB = 1024**4

# -- numbers ----------------------------------------------------------------------------------

#: Most digits a typed whole number may have; longer text is refused before Python or NumPy convert it
#: (Python refuses past 4,300 digits with a traceback, NumPy overflows past 19).
MAX_NUMBER_DIGITS = 30

#: Largest power of ten a size may be written with (``1e30``): ``1e999999999`` would take minutes to expand.
MAX_SIZE_EXPONENT = 30

#: Smallest and largest seed of the random inputs: NumPy's generators take any non-negative integer, and
#: 32 bits is what every front end can type and store.
SEED_MIN, SEED_MAX = 0, 2**32 - 1

# -- matrices, shapes and operands ------------------------------------------------------------------

#: Largest matrix side M, N or K of ``run``, ``trace`` and the matmul panel (the memory budget refuses most
#: products far below it; this bound keeps the estimate's arithmetic in machine integers).
MAX_MATRIX_SIDE = 2**20

#: Largest size of one dimension of a broadcast shape: a signed 32-bit index, what array libraries and CUDA
#: grids count with (NumPy would take up to 2⁶³−1 and overflow on the element count).
MAX_DIMENSION = 2**31 - 1

#: Most dimensions of one shape (NumPy 2 allows 64; NumPy 1 allowed 32).
MAX_NDIM = 32

#: Most operands drawn side by side (the broadcast panel, ``export broadcast``, scenarios); ``gpuviz
#: broadcast``, which draws nothing, takes as many as NumPy does.
MAX_DRAWN_OPERANDS = 8

#: Most sizes in one speed sweep (the Speed panel's field, ``bench --sizes``, a speed scenario).
MAX_SPEED_SIZES = 12

# -- training ----------------------------------------------------------------------------------

#: Most minibatch steps ``grad --train``, ``export grad --train`` and a grad scenario may ask for
#: (5,000 digits steps take about 20 s).
MAX_TRAIN_STEPS = 5000

#: Largest learning rate α accepted: larger ones only overflow (the lesson of a too-large α is shown far
#: below it).
MAX_ALPHA = 1e3

# -- timing ---------------------------------------------------------------------------------------

#: Most timed repeats of one measurement (``run --repeat``, ``bench --repeats``).
MAX_REPEATS = 1000

#: Longest estimated time of one benchmark call that ``bench --max-seconds`` may allow (an hour).
MAX_CALL_SECONDS = 3600.0

# -- pictures and animations ----------------------------------------------------------------------

#: Largest exported picture (8K UHD), in pixels.
MAX_EXPORT_WIDTH, MAX_EXPORT_HEIGHT = 7680, 4320

#: Largest side of a ``--screenshot`` of the desktop app, in pixels.
MAX_SCREENSHOT_SIDE = 8192

#: Frame rates of an animated export: a GIF stores each frame's time in hundredths of a second as a 16-bit
#: number, so below 0.1 frames per second (10 s a frame) is refused rather than overflowed; above 50 the
#: viewers slow it down anyway.
MIN_FPS, MAX_FPS = 0.1, 50.0

# -- budgets ----------------------------------------------------------------------------------

#: Smallest and largest ``--memory`` budget (a budget beyond any machine's memory is a typing slip).
MIN_MEMORY_BYTES, MAX_MEMORY_BYTES = 1, 64 * TIB

# -- files ----------------------------------------------------------------------------------

#: Largest scenario file read (a scenario is a page of TOML).
MAX_SCENARIO_BYTES = 1 * MIB

#: Largest kernel file read (``check``/``trace --kernel-file``): a student's kernel is a page of Python.
MAX_KERNEL_FILE_BYTES = 1 * MIB

#: Largest results file read (``bench --load``, ``export speed --results``).
MAX_RESULTS_BYTES = 16 * MIB

#: Deepest nesting of arrays and tables in a scenario or results file, checked before any recursive check.
MAX_NESTING = 32

#: Most parts of one dotted TOML key (``a.b.c`` has three), checked on the text before it is parsed.
MAX_KEY_DEPTH = 16

#: Longest file name (one path component) in bytes, where the file system does not say (Linux, macOS and
#: Windows all allow 255).
MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class Limit:
    """One row of README's "Limits" table.

    Parameters
    ----------
    what : str
        The quantity bounded.
    bound : str
        The bound, as the refusal states it.
    where : str
        Where the value enters.
    """

    what: str
    bound: str
    where: str


def _n(value) -> str:
    return f"{value:,}"


def _bytes(n: int) -> str:
    for unit, size in (("TiB", TIB), ("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


def limits() -> tuple[Limit, ...]:
    """Every bound of this module, as README's "Limits" table lists them."""
    return (
        Limit("Digits of a typed whole number", f"at most {MAX_NUMBER_DIGITS}", "every number"),
        Limit("Power of ten in a size (`1e6`)", f"at most 10^{MAX_SIZE_EXPONENT}", "`--sizes`, Speed panel"),
        Limit("Seed", f"{SEED_MIN} … 2³²−1 ({_n(SEED_MAX)})", "`--seed`, `[params] seed`"),
        Limit("Matrix side M, N, K", f"1 … {_n(MAX_MATRIX_SIDE)}", "`run`, `trace`, `export matmul`, matmul panel"),
        Limit("One dimension of a broadcast shape", f"0 … {_n(MAX_DIMENSION)}", "`broadcast`, broadcast panel"),
        Limit("Dimensions of one shape", f"at most {MAX_NDIM}", "`broadcast`, broadcast panel"),
        Limit("Operands drawn", f"at most {MAX_DRAWN_OPERANDS}",
              "broadcast panel, `export broadcast`, scenarios (`gpuviz broadcast` takes any number)"),
        Limit("Sizes in one speed sweep", f"at most {MAX_SPEED_SIZES}", "`bench --sizes`, Speed panel"),
        Limit("Training steps", f"1 … {_n(MAX_TRAIN_STEPS)}",
              "`grad --train`, `export grad --train`, `[params] steps`"),
        Limit("Learning rate α", f"above 0, at most {MAX_ALPHA:g}", "`--alpha`, `[params] alpha`"),
        Limit("Kernel time-out", f"above 0, at most {MAX_CALL_SECONDS:g} s", "`check --timeout`"),
        Limit("Timed repeats", f"1 … {_n(MAX_REPEATS)}", "`run --repeat`, `bench --repeats`"),
        Limit("Longest benchmark call", f"above 0, at most {MAX_CALL_SECONDS:g} s", "`bench --max-seconds`"),
        Limit("Exported picture", f"{MAX_EXPORT_WIDTH}×{MAX_EXPORT_HEIGHT} pixels", "`export --size`"),
        Limit("Screenshot side", f"1 … {_n(MAX_SCREENSHOT_SIDE)} pixels", "`--size` with `--screenshot`"),
        Limit("GIF frame rate", f"{MIN_FPS:g} … {MAX_FPS:g} frames per second", "`export --fps`"),
        Limit("Memory budget", f"{_bytes(MIN_MEMORY_BYTES)} … {_bytes(MAX_MEMORY_BYTES)}", "`--memory`"),
        Limit("Scenario file", f"a regular file of at most {_bytes(MAX_SCENARIO_BYTES)}", "`--scenario`, decks"),
        Limit("Kernel file", f"a regular file of at most {_bytes(MAX_KERNEL_FILE_BYTES)}", "`--kernel-file`"),
        Limit("Results file", f"a regular file of at most {_bytes(MAX_RESULTS_BYTES)}",
              "`bench --load`, `export speed --results`"),
        Limit("Nesting of arrays and tables", f"at most {MAX_NESTING} deep", "scenario and results files"),
        Limit("Parts of a dotted key", f"at most {MAX_KEY_DEPTH}", "scenario files"),
        Limit("File name", f"at most {MAX_NAME_BYTES} bytes (or what the file system allows)",
              "`--out`, `--save`, `--screenshot`"),
    )


def limits_table() -> str:
    """README's "Limits" table in Markdown, rendered from the constants above."""
    rows = ["| What | Bound | Where it enters |", "|---|---|---|"]
    rows += [f"| {lim.what} | {lim.bound} | {lim.where} |" for lim in limits()]
    return "\n".join(rows) + "\n"


# -- nesting, measured on the text before it is parsed ------------------------------------------------


def toml_depths(text: str) -> tuple[int, int]:
    """The deepest nesting of arrays and tables and the most parts of one dotted key in TOML ``text``.

    Measured by one pass over the characters, skipping strings and comments, before any parser or recursive
    check sees the text: ``tomllib`` itself recurses on nested arrays (a ``RecursionError`` at 1,000) and
    builds a dotted key's tables one by one (20,000 parts took seconds and gigabytes). Text that is not valid
    TOML is measured as far as it reads; the parser then reports it.
    """
    nesting = key_parts = 0
    stack: list[str] = []
    in_key = True  # at the start of a line outside any array: a key or a [table] header comes next
    parts = 1
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in "\"'":
            triple = text.startswith(ch * 3, i)
            quote = ch * 3 if triple else ch
            j = i + len(quote)
            while j < n:
                if ch == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    break
                if not triple and text[j] == "\n":
                    break
                j += 1
            i = j + len(quote)
            continue
        if ch == "\n":
            if not stack or stack[-1] == "header":
                stack = [] if stack and stack[-1] == "header" else stack
                in_key, parts = True, 1
            i += 1
            continue
        if ch == "[" and in_key and not stack:
            # a [table] or [[array of tables]] header: its key parts count, its brackets are one level
            stack.append("header")
            nesting = max(nesting, 1)
            i += 2 if text.startswith("[[", i) else 1
            continue
        if ch == "]" and stack and stack[-1] == "header":
            key_parts = max(key_parts, parts)
            stack.pop()
            in_key = False
            i += 2 if text.startswith("]]", i) else 1
            continue
        if ch in "[{":
            stack.append(ch)
            nesting = max(nesting, len(stack))
            in_key, parts = ch == "{", 1
        elif ch in "]}":
            if stack:
                stack.pop()
            in_key = False
        elif ch == "," and stack and stack[-1] == "{":
            in_key, parts = True, 1
        elif ch == "=" and in_key:
            key_parts = max(key_parts, parts)
            in_key = False
        elif ch == "." and (in_key or (stack and stack[-1] == "header")):
            parts += 1
            key_parts = max(key_parts, parts)
        i += 1
    return nesting, key_parts


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text``, strings skipped (:mod:`json` recurses)."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
        i += 1
    return deepest


def depth_problem(text: str, kind: str = "toml") -> str | None:
    """Why ``text`` (``"toml"`` or ``"json"``) is nested too deep to read, in one sentence, or None."""
    if kind == "json":
        nesting, key_parts = json_depth(text), 0
    else:
        nesting, key_parts = toml_depths(text)
    if nesting > MAX_NESTING:
        return f"nests arrays or tables {nesting} deep, over the limit of {MAX_NESTING}"
    if key_parts > MAX_KEY_DEPTH:
        return f"has a dotted key of {key_parts} parts, over the limit of {MAX_KEY_DEPTH}"
    return None


__all__ = [
    "GIB", "KIB", "Limit", "MAX_ALPHA", "MAX_CALL_SECONDS", "MAX_DIMENSION", "MAX_DRAWN_OPERANDS",
    "MAX_EXPORT_HEIGHT", "MAX_EXPORT_WIDTH", "MAX_FPS", "MAX_KERNEL_FILE_BYTES", "MAX_KEY_DEPTH", "MAX_MATRIX_SIDE",
    "MAX_MEMORY_BYTES", "MAX_NAME_BYTES", "MAX_NDIM", "MAX_NESTING", "MAX_NUMBER_DIGITS", "MAX_REPEATS",
    "MAX_RESULTS_BYTES", "MAX_SCENARIO_BYTES", "MAX_SCREENSHOT_SIDE", "MAX_SIZE_EXPONENT", "MAX_SPEED_SIZES",
    "MAX_TRAIN_STEPS", "MIB", "MIN_FPS", "MIN_MEMORY_BYTES", "SEED_MAX", "SEED_MIN", "TIB", "depth_problem",
    "json_depth", "limits", "limits_table", "toml_depths",
]


if __name__ == "__main__":  # python -m gpuviz.model.limits: README's table, to paste after a change
    print(limits_table(), end="")
