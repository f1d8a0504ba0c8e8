"""Plugin internals, one module per responsibility (see README, "Architecture")."""
