"""The shell of baocao: settings, the composition root, the CLI, channels, storage."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("baocao")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
