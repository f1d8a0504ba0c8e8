"""Benchmarks (``make bench``): dev tooling, not shipped in the plugin."""
