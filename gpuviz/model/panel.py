"""The panel protocol on floor 1: what every panel model offers, whatever it draws.

A panel is a *model* here (pure Python and NumPy) and a *view* in
:mod:`gpuviz.ui`. The model holds typed parameters, the step where it has
steps, and the limits; the view subscribes and draws. The CLI, the GUI and the
export refuse the same input with the same sentence because the check lives in
the model and raises :class:`ParamsError` (or a subclass of it).

The panels that exist are listed in :mod:`gpuviz.model.registry`.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, runtime_checkable

P = TypeVar("P", bound="Params")


class ParamsError(ValueError):
    """Input a panel model refuses, with one sentence saying what is wrong.

    Every panel's own error type (``SceneError``, ``DenseError``,
    ``ShapeParseError``, ``GradStateError``, ``SpeedError``, ``ScenarioError``)
    is a subclass, so a caller that shows bad input to a user catches this one
    type, and anything else still surfaces as the bug it is.

    Parameters
    ----------
    message : str
        One sentence for the user.
    field : str, optional
        The parameter or control the message belongs next to (``""``: none).
    """

    def __init__(self, message: str = "", field: str = ""):
        super().__init__(message)
        self.field = field


# -- reading a [params] or [view] table: one wording for every panel ---------------------------

_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"), (list, "an array"),
          (tuple, "an array"), (dict, "a table"))


def value_kind(value) -> str:
    """How a scenario file's value reads in a message: ``"a string"``, ``"an integer"``, ``"a table"``, …"""
    for t, name in _KINDS:
        if isinstance(value, t):
            return name
    return "a date/time"


def table(data, where: str, keys: tuple[str, ...] | None) -> dict:
    """``data`` as a table whose keys are all in ``keys`` (None: any keys); ParamsError naming ``where``."""
    if not isinstance(data, dict):
        raise ParamsError(f"{where} must be a table, got {value_kind(data)}")
    if keys is not None:
        unknown = [key for key in data if key not in keys]
        if unknown:
            raise ParamsError(f"unknown key {unknown[0]!r} in {where} (known keys: {', '.join(keys)})", unknown[0])
    return data


def require(data: dict, key: str, where: str):
    """``data[key]``, or ParamsError saying the key is missing in ``where``."""
    if key not in data:
        raise ParamsError(f"missing key {key!r}" + (f" in {where}" if where != "the file" else ""), key)
    return data[key]


def whole(value, name: str, minimum: int | None = None) -> int:
    """``value`` as a whole number (not a boolean), at least ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ParamsError(f"{name} must be a whole number, got {value_kind(value)} {value!r}")
    if minimum is not None and value < minimum:
        raise ParamsError(f"{name} = {value} must be at least {minimum}")
    return value


def text(value, name: str, nonempty: bool = False) -> str:
    """``value`` as a string (not blank when ``nonempty``)."""
    if not isinstance(value, str):
        raise ParamsError(f"{name} must be a string, got {value_kind(value)} {value!r}")
    if nonempty and not value.strip():
        raise ParamsError(f"{name} must not be empty")
    return value


def flag(value, name: str) -> bool:
    """``value`` as true or false."""
    if not isinstance(value, bool):
        raise ParamsError(f"{name} must be true or false, got {value_kind(value)} {value!r}")
    return value


def pair(value, name: str) -> tuple[int, int]:
    """``value`` as two whole numbers, written ``[8, 8]`` in a file."""
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ParamsError(f"{name} must be an array of two whole numbers like [8, 8], got {value_kind(value)} "
                          f"{list(value) if isinstance(value, tuple) else value!r}")
    return (value[0], value[1])


@runtime_checkable
class Params(Protocol):
    """A panel's typed parameters: a frozen dataclass read from and written to a scenario's ``[params]``."""

    @classmethod
    def from_dict(cls: type[P], params: dict) -> P:
        """Read ``params`` (a ``[params]`` table); raises :class:`ParamsError` naming the key."""

    def to_dict(self) -> dict:
        """The ``[params]`` table that :meth:`from_dict` reads back to an equal object."""


@runtime_checkable
class PanelModel(Protocol):
    """What a panel model offers its view, the export and the notebook API.

    ``subscribe``/``unsubscribe`` come from :class:`gpuviz.model.events.Observable`;
    a listener hears ``listener(model, changes)`` with ``changes`` a frozenset of names.
    ``n_steps``/``step``/``set_step`` are the timeline (a panel without steps
    has one step, 0); ``set_step`` clamps to ``0 .. n_steps - 1``.
    """

    def subscribe(self, listener) -> None: ...

    def unsubscribe(self, listener) -> None: ...

    @property
    def n_steps(self) -> int: ...

    @property
    def step(self) -> int: ...

    def set_step(self, step: int) -> None: ...


__all__ = ["PanelModel", "Params", "ParamsError", "flag", "pair", "require", "table", "text", "value_kind", "whole"]
