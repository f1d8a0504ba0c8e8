"""Stand-in for ``netskope.common.utils``: what plugins import from it.

``add_user_agent`` (CE's User-Agent), the plugin logger, the notifier (CE's banner
notifications), ``DBConnector``/``Collections`` (CE's database, which some official plugins
read directly: ``logs_itsm`` pulls CE's own log collection), and ``PluginBase``, the base of
every module's plugin base class with the metaclass registration CE finds plugins by.
"""

from __future__ import annotations

from .db import Collections, DBConnector
from .logger import Logger, LogRecord
from .notifier import Notification, Notifier, notifier
from .plugin_base import PluginBase, PluginMount, add_user_agent
from .secrets import ResolvingConfiguration, SecretStore

__all__ = [
    "Collections",
    "DBConnector",
    "LogRecord",
    "Logger",
    "Notification",
    "Notifier",
    "PluginBase",
    "PluginMount",
    "ResolvingConfiguration",
    "SecretStore",
    "add_user_agent",
    "notifier",
]
