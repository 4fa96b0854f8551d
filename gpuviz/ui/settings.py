"""What the app remembers between runs: window geometry, theme, the last scenario.

Remembered settings only choose what the window opens with. Nothing a panel
draws reads them: a panel renders its scene with an explicit theme, so an
export is the same whatever was remembered (and ``gpuviz --screenshot`` reads
and writes no settings at all).
"""

from __future__ import annotations

from PyQt6.QtCore import QRect, QSettings

ORGANIZATION = APPLICATION = "gpuviz"

_GEOMETRY = "window/geometry"
_MAXIMIZED = "window/maximized"
_THEME = "window/theme"
_PANEL = "window/panel"
_SCENARIO_PATH = "scenario/path"
_SCENARIO_TEXT = "scenario/text"


class Settings:
    """Typed access to the app's :class:`~PyQt6.QtCore.QSettings`.

    Parameters
    ----------
    qsettings : QSettings or None
        Where to read and write; default ``QSettings("gpuviz", "gpuviz")``
        (on Linux under ``$XDG_CONFIG_HOME/gpuviz/``). Tests pass an INI file
        in a temporary folder.
    enabled : bool
        False: read nothing and write nothing (the window then opens as on a
        first start).
    """

    def __init__(self, qsettings: QSettings | None = None, *, enabled: bool = True):
        self.enabled = enabled
        self._q = (qsettings or QSettings(ORGANIZATION, APPLICATION)) if enabled else None

    @classmethod
    def at(cls, path) -> Settings:
        """Settings kept in the INI file ``path``."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @classmethod
    def disabled(cls) -> Settings:
        return cls(enabled=False)

    def _get(self, key: str, default=None):
        if not self.enabled:
            return default
        value = self._q.value(key, default)
        return default if value is None else value

    def _set(self, key: str, value) -> None:
        if self.enabled:
            if value is None:
                self._q.remove(key)
            else:
                self._q.setValue(key, value)

    def sync(self) -> None:
        if self.enabled:
            self._q.sync()

    @property
    def file_name(self) -> str | None:
        return self._q.fileName() if self.enabled else None

    # -- values -------------------------------------------------------------------------------

    @property
    def geometry(self) -> QRect | None:
        """The window's normal (not maximized, not full-screen) geometry.

        A plain rectangle rather than ``QWidget.saveGeometry()``: restoring
        that blob shrinks the window to the screen Qt reports, which for the
        offscreen platform is 800×800.
        """
        value = self._get(_GEOMETRY)
        return value if isinstance(value, QRect) and value.isValid() else None

    @geometry.setter
    def geometry(self, value: QRect) -> None:
        self._set(_GEOMETRY, QRect(value))

    @property
    def maximized(self) -> bool:
        value = self._get(_MAXIMIZED, False)
        return value is True or str(value).lower() == "true"

    @maximized.setter
    def maximized(self, value: bool) -> None:
        self._set(_MAXIMIZED, bool(value))

    @property
    def theme(self) -> str | None:
        value = self._get(_THEME)
        return str(value) if value else None

    @theme.setter
    def theme(self, name: str) -> None:
        self._set(_THEME, name)

    @property
    def panel(self) -> str | None:
        """``panel_id`` of the tab that was open."""
        value = self._get(_PANEL)
        return str(value) if value else None

    @panel.setter
    def panel(self, panel_id: str) -> None:
        self._set(_PANEL, panel_id)

    @property
    def scenario_path(self) -> str | None:
        """The scenario file opened or saved last (File menu dialogs start there)."""
        value = self._get(_SCENARIO_PATH)
        return str(value) if value else None

    @scenario_path.setter
    def scenario_path(self, path: str | None) -> None:
        self._set(_SCENARIO_PATH, path)

    @property
    def scenario_text(self) -> str | None:
        """The scenario shown when the window closed, as the TOML text of a scenario file."""
        value = self._get(_SCENARIO_TEXT)
        return str(value) if value else None

    @scenario_text.setter
    def scenario_text(self, text: str | None) -> None:
        self._set(_SCENARIO_TEXT, text)

    def panel_state(self, panel_id: str) -> bytes | None:
        """A panel's remembered layout (its splitters' sizes, its collapsed columns), as the panel saved it."""
        value = self._get(f"panels/{panel_id}/layout")
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if hasattr(value, "data"):  # QByteArray
            return bytes(value.data())
        return None

    def set_panel_state(self, panel_id: str, state: bytes | None) -> None:
        from PyQt6.QtCore import QByteArray

        self._set(f"panels/{panel_id}/layout", None if state is None else QByteArray(bytes(state)))

    def export_choice(self, name: str, default: str) -> str:
        """The export dialog's last ``name`` (``folder``, ``format``, ``size``), or ``default``.

        These pre-fill the dialog only: what an export draws never depends on them.
        """
        value = self._get(f"export/{name}")
        return str(value) if value else default

    def set_export_choice(self, name: str, value: str) -> None:
        self._set(f"export/{name}", value)


__all__ = ["Settings"]
