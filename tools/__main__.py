"""`python -m tools` is the `portineria` command."""

from tools.cli import main

raise SystemExit(main())
