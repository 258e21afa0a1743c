"""``python -m ground``: run the ground service with settings from the environment only.

``lupex ground`` does the same with command-line options on top of the environment.
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from ground.app import serve
from ground.settings import GroundSettings


def main() -> int:
    try:
        settings = GroundSettings()
    except ValidationError as exc:
        print(f"invalid settings (LUPEX_GROUND_*): {exc}", file=sys.stderr)
        return 2
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
