"""Help → About: versions of what gpuviz runs on, and the backend the engine found.

Versions come from package metadata, so nothing is imported to learn them:
numba in particular stays out of the GUI process (DESIGN.md).
"""

from __future__ import annotations

import html
import platform
from importlib import metadata

from PyQt6.QtCore import Qt, qVersion
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout

from ..engine import gpu_text
from ..version import __version__

#: Distributions the dialog lists, in order.
PACKAGES = ("PyQt6", "pyqtgraph", "numpy", "numba", "numba-cuda")

LOOKING = "looking for a GPU…"
SIMULATOR = "CUDA simulator (CPU)"


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    """``(name, version)`` rows: gpuviz, Python, Qt, then :data:`PACKAGES`."""
    # the Qt library loaded at run time (PyQt6's QT_VERSION_STR is the one it was built against)
    rows = [("gpuviz", __version__), ("Python", platform.python_version()), ("Qt", qVersion())]
    rows += [(name, _dist_version(name)) for name in PACKAGES]
    return rows


def backend_text(info: dict | None) -> str:
    """One line for the status bar: the GPU's name, the simulator, or that the search is still on.

    ``info`` is what :meth:`gpuviz.engine.Engine.gpu_info` returned, or None while it runs.
    """
    if info is None:
        return LOOKING
    if info.get("gpu_available"):
        return gpu_text(info)
    return f"{SIMULATOR}: {gpu_text(info)}"


def backend_details(info: dict | None) -> str:
    """A longer description of the backend for the About box."""
    if info is None:
        return LOOKING
    if info.get("gpu_available"):
        cc = ".".join(str(c) for c in info.get("compute_capability") or ())
        sms = info.get("sm_count")
        extra = ", ".join(x for x in (f"compute capability {cc}" if cc else "",
                                      f"{sms} SMs" if sms else "") if x)
        return f"GPU: {info.get('gpu_name')}" + (f" ({extra})" if extra else "")
    why = info.get("error") or "no CUDA GPU was found"
    target = info.get("cuda_target")
    target_text = f"; CUDA target: {target}" if target else ""
    return f"{SIMULATOR}: kernels run thread by thread on the CPU ({why}{target_text})"


def about_html(info: dict | None) -> str:
    """The About box's text."""
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>&nbsp;&nbsp;{html.escape(version)}</td></tr>"
                   for name, version in versions())
    return (
        "<h3>gpuviz — why matrices make deep learning fast</h3>"
        "<p>A CUDA matrix product animated on its grid of blocks, warps and threads, "
        "computed for real on a GPU or in Numba's CUDA simulator.</p>"
        f"<table>{rows}</table>"
        f"<p><b>Backend:</b> {html.escape(backend_details(info))}</p>"
    )


class AboutDialog(QDialog):
    """Non-modal About box; :meth:`set_backend` updates it when the engine answers."""

    def __init__(self, info: dict | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About gpuviz")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.set_backend(info)
        self.resize(520, 360)

    def set_backend(self, info: dict | None) -> None:
        self.label.setText(about_html(info))

    def text(self) -> str:
        return self.label.text()


__all__ = ["AboutDialog", "about_html", "backend_details", "backend_text", "versions"]
