"""A user kernel's arguments as typed on the command line, and the ``--expect`` expressions.

``NAME=DTYPE[D0,D1,…]:INIT`` is an array (``a=float32[100]:arange``),
``NAME=VALUE`` a scalar (``n=100``, ``alpha=0.5``). They are matched to the
kernel's parameters by name, in any order. ``OUT=EXPR`` (``out=a.T``) gives the
expected final value of array ``OUT`` as a NumPy expression over the arguments
before the launch; it is checked here (syntax, names) and evaluated in the
worker with nothing but ``np`` and the arguments in scope.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np

from ..values import Init, ValuesError, check_dtype, make_array, parse_init

__all__ = ["MAX_ARRAY_DIMS", "MAX_ARRAY_ELEMENTS", "ArgError", "ArgSpec", "Expect", "match_args", "parse_arg",
           "parse_expect"]

#: Trace events hold up to three indices per element, as CUDA's dim3 does.
MAX_ARRAY_DIMS = 3
#: A simulated thread costs microseconds per access: far fewer elements than this are ever touched.
MAX_ARRAY_ELEMENTS = 1 << 24

_NAME = re.compile(r"\s*([A-Za-z_]\w*)\s*=(.*)", re.DOTALL)
_ARRAY = re.compile(r"\s*([A-Za-z]\w*)\s*\[([^\]]*)\]\s*(?::(.*))?", re.DOTALL)
_SPEC_HELP = "NAME=DTYPE[D0,D1,…]:INIT (e.g. a=float32[100]:arange) or NAME=VALUE (e.g. n=100)"


class ArgError(ValueError):
    """An argument or expectation that cannot be used as typed; the message is one sentence."""


@dataclass(frozen=True)
class ArgSpec:
    """One kernel argument.

    Parameters
    ----------
    name : str
        The kernel parameter it is passed as.
    dtype : str or None
        ``float32``, ``float64``, ``int32`` or ``int64`` for an array; None for a scalar.
    shape : tuple of int
        The array's shape (empty for a scalar).
    init : Init or None
        How the array starts.
    value : int, float or None
        The scalar's value.
    """

    name: str
    dtype: str | None = None
    shape: tuple[int, ...] = ()
    init: Init | None = None
    value: int | float | None = None

    @property
    def is_array(self) -> bool:
        return self.dtype is not None

    def make(self):
        """The host value: a new array filled as :attr:`init` says, or the scalar."""
        return make_array(self.shape, self.dtype, self.init) if self.is_array else self.value

    def to_dict(self) -> dict:
        if self.is_array:
            return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape), "init": self.init.word,
                    "seed": self.init.seed}
        return {"name": self.name, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict) -> ArgSpec:
        if "dtype" in d:
            return cls(d["name"], d["dtype"], tuple(d["shape"]), Init(d["init"], int(d.get("seed", 0))))
        return cls(d["name"], value=d["value"])

    def __str__(self) -> str:
        if self.is_array:
            return f"{self.name}={self.dtype}[{','.join(map(str, self.shape))}]:{self.init}"
        return f"{self.name}={self.value}"


def _scalar(text: str):
    t = text.strip().replace("_", "")
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        value = float(t)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def parse_arg(text: str) -> ArgSpec:
    """Read one ``--arg``; raises :class:`ArgError` with one sentence."""
    match = _NAME.fullmatch(str(text))
    if match is None:
        raise ArgError(f"--arg “{text}”: expected {_SPEC_HELP}")
    name, rest = match.group(1), match.group(2)
    array = _ARRAY.fullmatch(rest)
    if array is None:
        value = _scalar(rest)
        if value is None:
            raise ArgError(f"--arg {name}: “{rest.strip()}” is neither a number nor an array; expected {_SPEC_HELP}")
        return ArgSpec(name, value=value)
    dtype_text, dims_text, init_text = array.groups()
    try:
        dtype = check_dtype(dtype_text)
        init = parse_init(init_text) if init_text is not None and init_text.strip() else Init("zeros")
    except ValuesError as e:
        raise ArgError(f"--arg {name}: {e}") from None
    parts = [p.strip().replace("_", "") for p in dims_text.split(",")]
    if not parts or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        raise ArgError(f"--arg {name}: “[{dims_text}]” is not a shape: write its sizes, e.g. [100] or [8,8]")
    shape = tuple(int(p) for p in parts)
    if not 1 <= len(shape) <= MAX_ARRAY_DIMS:
        raise ArgError(f"--arg {name}: an array has 1 to {MAX_ARRAY_DIMS} dimensions, not {len(shape)}")
    if min(shape) < 1:
        raise ArgError(f"--arg {name}: every size must be at least 1, not {min(shape)}")
    size = int(np.prod(shape, dtype=np.int64))
    if size > MAX_ARRAY_ELEMENTS:
        raise ArgError(f"--arg {name}: {size:,} elements is over the limit of {MAX_ARRAY_ELEMENTS:,}")
    return ArgSpec(name, dtype, shape, init)


def match_args(params, specs) -> list[ArgSpec]:
    """``specs`` ordered as the kernel's ``params``; :class:`ArgError` unless each parameter has exactly one."""
    params = list(params)
    by_name: dict[str, ArgSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise ArgError(f"--arg {spec.name} is given twice")
        by_name[spec.name] = spec
    unknown = [n for n in by_name if n not in params]
    if unknown:
        raise ArgError(f"--arg {unknown[0]}: the kernel has no parameter {unknown[0]!r} "
                       f"(its parameters: {', '.join(params) or 'none'})")
    missing = [p for p in params if p not in by_name]
    if missing:
        raise ArgError(f"no --arg for the kernel's parameter{'s' if len(missing) > 1 else ''} "
                       f"{', '.join(missing)}: give each as {_SPEC_HELP}")
    return [by_name[p] for p in params]


@dataclass(frozen=True)
class Expect:
    """``--expect OUT=EXPR``: array ``OUT`` must end equal to ``EXPR`` (NumPy, over the arguments before launch)."""

    name: str
    expr: str

    def __str__(self) -> str:
        return f"{self.name}={self.expr}"


def parse_expect(text: str, args=None) -> Expect:
    """Read ``OUT=EXPR`` and check it: ``OUT`` an array argument, ``EXPR`` valid Python over ``np`` and the arguments.

    ``args`` (ArgSpecs), when given, are the names ``EXPR`` may use. Attribute
    names starting with ``_`` are refused: with no builtins in scope, they are the
    only way out of the expression's namespace.
    """
    match = _NAME.fullmatch(str(text))
    if match is None or not match.group(2).strip():
        raise ArgError(f"--expect “{text}”: expected OUT=EXPR, e.g. out=a.T or out=a + b")
    name, expr = match.group(1), match.group(2).strip()
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as e:
        raise ArgError(f"--expect {name}: “{expr}” is not a Python expression ({e.msg})") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ArgError(f"--expect {name}: “.{node.attr}” is not allowed in an expectation")
    if args is not None:
        specs = {a.name: a for a in args}
        if name not in specs or not specs[name].is_array:
            arrays = [a.name for a in args if a.is_array]
            raise ArgError(f"--expect {name}: {name!r} is not an array argument "
                           f"(the arrays: {', '.join(arrays) or 'none'})")
        known = set(specs) | {"np"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in known:
                raise ArgError(f"--expect {name}: unknown name {node.id!r} (use np and the arguments: "
                               f"{', '.join(specs)})")
    return Expect(name, expr)


def evaluate_expect(expect: Expect, values: dict) -> np.ndarray:
    """``expect``'s expression over ``values`` (the arguments before launch), with ``np`` and no builtins."""
    specs = [ArgSpec(k, "float64" if isinstance(v, np.ndarray) else None) for k, v in values.items()]
    parse_expect(f"{expect.name}={expect.expr}", specs)  # the same checks as before the run: names, no "._x"
    namespace = {"np": np, **{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in values.items()}}
    code = compile(expect.expr, f"<--expect {expect.name}>", "eval")
    # no builtins but the import machinery: NumPy imports some modules lazily, and an import made
    # while this frame runs looks __import__ up in its builtins; the expression itself cannot name it
    builtins = {"__import__": __import__}
    return np.asarray(eval(code, {"__builtins__": builtins}, namespace))  # noqa: S307 - names checked above


__all__ += ["evaluate_expect", "ValuesError"]
