"""`python -m server` is `sluice`."""

from server.cli import main

raise SystemExit(main())
