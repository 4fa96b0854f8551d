"""Find the kernels in a student's Python file without running it.

A kernel is a top-level function decorated with ``@cuda.jit`` (or
``@numba.cuda.jit``, ``@jit`` imported from ``numba.cuda``, with or without
arguments) and not ``device=True``; ``name = cuda.jit(func)`` counts too.
Reading the file here lets the command line refuse a bad request (unreadable
file, syntax error, no kernel, an ambiguous one, arguments that do not match)
in one sentence before any worker starts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KernelInfo", "KernelSource", "SourceError", "read_kernel_file"]


class SourceError(ValueError):
    """A kernel file that cannot be used; the message is one sentence naming the file (and line)."""


@dataclass(frozen=True)
class KernelInfo:
    """One kernel of a file.

    Parameters
    ----------
    name : str
        The module-level name the kernel is bound to.
    params : tuple of str
        Its parameters, in order.
    line : int
        Line of its ``def`` (1-based).
    """

    name: str
    params: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class KernelSource:
    """A kernel file read and parsed.

    Parameters
    ----------
    path : str
        The file, absolute.
    text : str
        Its source.
    kernels : tuple of KernelInfo
        Its kernels, in file order.
    device_functions : tuple of str
        Its ``device=True`` functions.
    shown : str
        The file as the user named it (for messages); ``path`` when empty.
    """

    path: str
    text: str
    kernels: tuple[KernelInfo, ...]
    device_functions: tuple[str, ...] = ()
    shown: str = ""

    def kernel(self, name: str | None = None) -> KernelInfo:
        """The kernel called ``name``, or the only one; :class:`SourceError` otherwise."""
        names = [k.name for k in self.kernels]
        path = self.shown or self.path
        if not self.kernels:
            raise SourceError(f"{path}: no @cuda.jit kernel found (device functions do not count)")
        if name is None:
            if len(self.kernels) > 1:
                raise SourceError(f"{path} defines {len(names)} kernels ({', '.join(names)}): "
                                  f"choose one with --function")
            return self.kernels[0]
        for k in self.kernels:
            if k.name == name:
                return k
        raise SourceError(f"{path} has no kernel called {name!r} (its kernels: {', '.join(names) or 'none'})")


def _is_cuda_jit(node, bare_jit: bool = False) -> tuple[bool, bool]:
    """(is a cuda.jit decorator or call, device=True) for a decorator expression.

    ``bare_jit``: the file imports ``jit`` from ``numba.cuda``, so ``@jit`` is CUDA's (not numba's CPU jit).
    """
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call is not None else node
    name = ast.unparse(target) if isinstance(target, (ast.Attribute, ast.Name)) else ""
    if name not in ("cuda.jit", "numba.cuda.jit") and not (bare_jit and name == "jit"):
        return False, False
    device = False
    if call is not None:
        for kw in call.keywords:
            if kw.arg == "device" and isinstance(kw.value, ast.Constant):
                device = bool(kw.value.value)
    return True, device


def _params(fn: ast.FunctionDef, path: str) -> tuple[str, ...]:
    a = fn.args
    if a.vararg or a.kwarg or a.kwonlyargs:
        raise SourceError(f"{path} line {fn.lineno}: kernel {fn.name!r} takes *args, **kwargs or keyword-only "
                          f"parameters; a kernel takes plain parameters")
    return tuple(p.arg for p in (*a.posonlyargs, *a.args))


def parse_kernel_source(text: str, path: str) -> KernelSource:
    """Parse ``text`` (the file ``path``) and list its kernels; a syntax error raises :class:`SourceError`."""
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as e:
        where = f" line {e.lineno}" if e.lineno else ""
        raise SourceError(f"{path}{where}: syntax error: {e.msg}") from None
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    bare = any(isinstance(n, ast.ImportFrom) and n.module == "numba.cuda" and any(a.name == "jit" and not a.asname
                                                                                 for a in n.names)
               for n in ast.walk(tree))
    kernels, devices = [], []
    for fn in functions.values():
        for dec in fn.decorator_list:
            is_jit, device = _is_cuda_jit(dec, bare)
            if is_jit:
                if device:
                    devices.append(fn.name)
                else:
                    kernels.append(KernelInfo(fn.name, _params(fn, path), fn.lineno))
                break
    for node in tree.body:
        # name = cuda.jit(func) or cuda.jit(device=True)(func)
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call) and len(node.value.args) == 1
                and isinstance(node.value.args[0], ast.Name) and node.value.args[0].id in functions):
            is_jit, device = _is_cuda_jit(node.value.func if isinstance(node.value.func, ast.Call) else
                                          ast.Call(node.value.func, [], node.value.keywords), bare)
            if is_jit:
                fn = functions[node.value.args[0].id]
                if device:
                    devices.append(node.targets[0].id)
                else:
                    kernels.append(KernelInfo(node.targets[0].id, _params(fn, path), fn.lineno))
    return KernelSource(path, text, tuple(kernels), tuple(devices))


def read_kernel_file(path) -> KernelSource:
    """Read and parse a kernel file; :class:`SourceError` (one sentence) when it cannot be used."""
    p = Path(path).expanduser()
    shown = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"cannot read {shown}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"cannot read {shown}: it is a folder") from None
    except UnicodeDecodeError:
        raise SourceError(f"cannot read {shown}: it is not UTF-8 text") from None
    except OSError as e:
        raise SourceError(f"cannot read {shown}: {e.strerror or e}") from None
    if p.suffix != ".py":
        raise SourceError(f"{shown}: a kernel file is a Python file ending in .py")
    src = parse_kernel_source(text, shown)
    return KernelSource(str(p.resolve()), src.text, src.kernels, src.device_functions, shown)
