"""The package version, a leaf: the CLI's ``--version`` reads it without the public API."""

__version__ = "0.1.0"
