"""Entry point for `python -m fleet` (subcommands in `fleet.tools.cli`)."""

from fleet.tools.cli import main

raise SystemExit(main())
