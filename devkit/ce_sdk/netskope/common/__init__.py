"""Stand-in for ``netskope.common``."""
