"""Figures. Numerics never plot: these functions take the frozen results of the compute modules and
return a :class:`matplotlib.figure.Figure` (colour-blind-safe palette, labelled axes)."""
# Each module's public names are re-exported below (one import line per module).
from rmthess.plotting.blockmap import *  # noqa: F401,F403
from rmthess.plotting.decoupling import *  # noqa: F401,F403
from rmthess.plotting.hessians import *  # noqa: F401,F403
from rmthess.plotting.offsets import *  # noqa: F401,F403
from rmthess.plotting.ratios import *  # noqa: F401,F403
from rmthess.plotting.spectra import *  # noqa: F401,F403
from rmthess.plotting.style import *  # noqa: F401,F403
