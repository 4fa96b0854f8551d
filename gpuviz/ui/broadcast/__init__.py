"""The "Broadcasting" panel: NumPy's broadcasting rule stepped through with real values, and a quiz."""
