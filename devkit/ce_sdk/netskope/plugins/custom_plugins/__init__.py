"""Uploaded plugins are imported as ``netskope.plugins.custom_plugins.<plugin_id>``."""
