"""``python -m lupex`` is the same as the ``lupex`` command."""

from lupex.cli import app

app()
