"""`python -m rnr_core.cli`: the same as the `rnr` command."""

import sys

from rnr_core.cli import main

sys.exit(main())
