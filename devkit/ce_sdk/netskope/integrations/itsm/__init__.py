"""Stand-in for ``netskope.integrations.itsm`` (Ticket Orchestrator)."""
