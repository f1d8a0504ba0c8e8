"""CloudTrail records to identities: decoding and the identity resolver (pure, no I/O).

``events``      the normalised event model (declarations)
``decode``      trail objects / LookupEvents strings → events (fast and stdlib paths)
``resolver``    ``IdentityResolver``: who is behind each event
``index``       the issuance index, held events, and their form in CE storage
``issuance``    what an event establishes (issued keys, trust changes, role switches)
``resolution``  the answer: status, origin, method, chain; AssumeRole checks
``timeline``    when each role's trust policy enforced the session-name rule
Design note: ``docs/identity-resolver.md``.
"""
