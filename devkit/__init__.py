"""Development kit: CE SDK stand-in, local CE runner, emulators and offline CLIs.

Nothing under ``devkit/`` ships in the plugin archive.
"""
