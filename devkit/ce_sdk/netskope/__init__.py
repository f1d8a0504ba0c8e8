"""Stand-in for Netskope Cloud Exchange's ``netskope`` package (dev/test only).

CE's SDK is not published. This package reproduces the parts of it that a CTO
source plugin touches, with the same module paths, names and signatures, so the
plugin can be imported and driven exactly as the CE core does. It never ships in
the plugin archive.
"""
