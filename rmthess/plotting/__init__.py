"""Figures. Numerics never plot: these functions take the frozen results of the compute modules and
return a :class:`matplotlib.figure.Figure` (colour-blind-safe palette, labelled axes)."""
# Each module's public names are re-exported below (one import line per module).
