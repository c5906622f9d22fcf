"""Entry point for `python -m fleet.tools.ephemeral` (the same as `fleet ephemeral`)."""

from fleet.cli.commands.ephemeral import main

raise SystemExit(main())
