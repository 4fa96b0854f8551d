"""One small observable: every panel model tells its listeners what changed the same way.

A listener is called ``listener(model, changes)`` after each change, with
``changes`` a frozenset of short names (``"params"``, ``"step"``,
``"selection"``, …) that each model lists in its docstring. Listeners are
called in the order they subscribed; one that unsubscribes while being called
does not stop the others from hearing the same change.
"""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[object, frozenset], None]


class Observable:
    """Mixin for a model that emits changes; the listener list is made on first use.

    The list is created lazily so a subclass need not call this ``__init__``
    before its own validation can raise (a refused model never had listeners).
    """

    _listeners: list[Listener]

    def _listener_list(self) -> list[Listener]:
        try:
            return self._listeners
        except AttributeError:
            self._listeners = []
            return self._listeners

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(model, changes)`` after each change from now on."""
        self._listener_list().append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling ``listener``; one that was never subscribed is ignored."""
        listeners = self._listener_list()
        if listener in listeners:
            listeners.remove(listener)

    def emit(self, *changes: str) -> None:
        """Tell every listener that ``changes`` happened (a copy of the list: listeners may unsubscribe)."""
        what = frozenset(changes)
        for listener in list(self._listener_list()):
            listener(self, what)


__all__ = ["Listener", "Observable"]
