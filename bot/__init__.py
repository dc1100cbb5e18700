"""The shell of baocao: settings, the composition root, the CLI, channels, storage."""


def __getattr__(name: str) -> str:
    """`bot.__version__`, read from the installed package on first use: importing
    importlib.metadata costs every command ~60 ms, which `baocao --help` need not pay."""
    if name != "__version__":
        raise AttributeError(f"module 'bot' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("baocao")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
