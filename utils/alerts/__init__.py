"""Alert kinds (one catalogue) and the builders that turn findings into CE alerts."""
