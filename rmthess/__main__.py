"""``python -m rmthess``: the ``rmthess`` command line (:func:`rmthess.cli.main`)."""

import sys

from rmthess.cli import main

sys.exit(main())
