"""Stand-in for ``netskope.common.api`` (only the version string plugins read)."""

__version__ = "6.0.0"
