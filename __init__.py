"""AWS Role Session Identity: a Netskope Cloud Exchange CTO source plugin."""
