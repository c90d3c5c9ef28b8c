"""Allow ``python -m sunpy_jets`` as a synonym of the ``sunpy-jets`` command."""

import sys

from .cli import main

sys.exit(main())
