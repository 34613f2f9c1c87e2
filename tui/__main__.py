"""``python -m revive.tui``: the same as the ``guix-revive`` command."""

from revive.tui.cli import main

raise SystemExit(main())
