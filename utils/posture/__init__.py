"""IAM posture: listing every role of a tenant and ranking what a non-compliant one exposes."""
