"""``python -m minigrad ...`` runs the command line (see minigrad/cli.py)."""

import sys

from .cli import main

sys.exit(main())
