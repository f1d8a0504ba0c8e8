"""One pull, phase by phase: accounts, posture, CloudTrail attribution, alerts, delivery."""
