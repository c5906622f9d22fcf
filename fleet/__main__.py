"""Entry point for `python -m fleet` (subcommands in `fleet.cli`)."""

from fleet.cli import main

raise SystemExit(main())
