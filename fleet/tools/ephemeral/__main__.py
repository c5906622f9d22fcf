"""Entry point for `python -m fleet.tools.ephemeral`."""

from fleet.tools.ephemeral.cli import main

raise SystemExit(main())
