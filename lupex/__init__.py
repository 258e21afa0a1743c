"""The `lupex` command line: one umbrella command over the project's packages."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lupex-ground-mock")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"
