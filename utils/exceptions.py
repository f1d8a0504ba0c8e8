"""Exceptions the plugin raises; every message names the resource and the fix, never a secret."""

from __future__ import annotations


class PluginError(Exception):
    """Base class of this plugin's errors."""


class ConfigurationError(PluginError):
    """The configuration cannot work (bad value, missing permission, unreachable resource)."""


class AwsAuthError(ConfigurationError):
    """Credentials could not be obtained or were rejected by AWS."""
