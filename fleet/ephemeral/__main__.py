"""Entry point for `python -m fleet.ephemeral`."""

from fleet.ephemeral.cli import main

raise SystemExit(main())
