"""The ``themekit`` command line: each command parses, calls one library function, renders.

One module per command group: ``coding`` (code, suggest), ``analysis``
(evaluate, agree), ``codebook``, ``exchange`` (export, import) and ``review``
(review, history); ``app`` holds what they share.
"""

from __future__ import annotations

import sys

# isort: off
# importing a group's module registers its commands, in this order in --help
from themekit.cli import coding, analysis, review, codebook, exchange  # noqa: F401
from themekit.cli.app import app

# isort: on

__all__ = ["app", "main"]


def main() -> None:
    app(prog_name="themekit")


if __name__ == "__main__":
    sys.exit(main())
