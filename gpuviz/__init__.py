"""gpuviz: watch why matrices make deep learning fast.

Importing ``gpuviz`` loads neither Qt nor numba: the model (``gpuviz.model``)
is pure NumPy, the engine (``gpuviz.engine``) runs numba in worker processes,
and the Qt user interface (``gpuviz.ui``) is imported only by the GUI.
"""

from .version import __version__ as __version__  # re-exported: gpuviz.__version__
