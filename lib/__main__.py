"""``python -m lib drift …``: the same command line as ``driftwatch`` (``lib.cli``)."""

import sys

from lib.cli import main

sys.exit(main())
