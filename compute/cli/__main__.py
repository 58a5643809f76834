"""`python -m facerec.compute.cli`: the `facerec` command."""

import sys

from facerec.compute.cli.main import main

sys.exit(main())
