"""Floor 3: the PyQt6 + pyqtgraph desktop app. Views of model objects; never imports numba."""
