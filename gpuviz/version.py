"""The version of gpuviz, in a module of its own so that every floor can show it.

``gpuviz/__init__.py`` re-exports it; the window's About box reads it from here, because importing
the package root from the UI would run an import up the floors (the root is the top floor, with the
notebook API).
"""

__version__ = "0.1.0"
