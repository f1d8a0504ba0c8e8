"""The RoleSessionName rule: trust-policy model, evaluator, finding catalogue and remediation.

Everything in this package is pure (no I/O, clock or logging) so that the posture pull, the
identity resolver and the alert builder can all call it on hot paths and tests can pin it
down exactly.
"""
