"""``python -m pasar_conformance SUITE --target HOST:PORT``: see :mod:`pasar_conformance.cli`."""

import sys

from pasar_conformance.cli import main

sys.exit(main())
