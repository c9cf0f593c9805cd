"""``python -m naiprompt``: the same as the ``naiprompt`` command."""

from __future__ import annotations

import sys

from naiprompt.cli import main

if __name__ == "__main__":
    sys.exit(main())
