"""``python -m cnnbench``: see :mod:`cnnbench.cli`."""

import sys

from cnnbench.cli import main

sys.exit(main())
