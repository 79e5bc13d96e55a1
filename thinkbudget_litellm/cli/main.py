"""``thinkbudget-litellm``: the console script's entry point (also ``python -m thinkbudget_litellm.cli.main``).

The commands live in :mod:`thinkbudget_litellm.cli.app`, which needs the ``cli`` extra (typer,
rich); some commands need another extra. This module imports neither, so when one is missing it
says which extra to install instead of ending in a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

from thinkbudget_litellm.cli.extras import extra_providing, missing_extra_message


def main(argv: list[str] | None = None) -> None:
    """Run the command line; exits 1 with an install hint when an extra's module is missing."""
    try:
        from thinkbudget_litellm.cli.app import app

        app(
            args=argv if argv is not None else sys.argv[1:],
            prog_name=Path(sys.argv[0]).name or "thinkbudget-litellm",
        )
    except ModuleNotFoundError as exc:
        extra = extra_providing(exc.name)
        if extra is None or exc.name is None:
            raise
        sys.stderr.write(missing_extra_message(extra, exc.name))
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
