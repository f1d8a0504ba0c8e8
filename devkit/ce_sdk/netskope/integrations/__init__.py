"""Stand-in for ``netskope.integrations``."""
