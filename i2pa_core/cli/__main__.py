"""``python -m i2pa_core.cli``: the ``i2pa`` command."""

import sys

from i2pa_core.cli.main import main

sys.exit(main())
