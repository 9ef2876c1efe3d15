import sys

from rmthess.cli import main

sys.exit(main())
