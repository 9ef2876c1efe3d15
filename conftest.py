"""Collection rules for the whole repository (tests and the package's doctests)."""

import importlib.util

#: the PyTorch adapter's doctests need PyTorch (the optional ``torch`` extra)
collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["rmthess/torch/*.py"]
