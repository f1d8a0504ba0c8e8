"""The trail recorder as the demo uses it: the layers of the package put together.

Each layer is a class so that it can reach the one seeded random generator and the one list
of records the others share (the trail is deterministic only if every id comes from that
generator in call order); the layers are split by job, not by data.
"""

from __future__ import annotations

from devkit.trail_recorder.delivery import TrailDelivery
from devkit.trail_recorder.made_up import MadeUpSessions


class TrailRecorder(MadeUpSessions, TrailDelivery):
    """Attach to boto3 clients; every call through them becomes a CloudTrail record.

    ``denied_request_parameters``: the 26 denied ``AssumeRole`` records in the public datasets
    all have ``"requestParameters": null`` (the session name is not visible). The demo needs
    the attempted session name, so by default the recorder keeps the parameters; pass
    ``False`` to produce the shape seen in those public trails.

    ``late_issuance``: how many issuing ``AssumeRole`` records (besides those marked with
    ``mark_late``) to deliver in a file later than the first use of their key; only issuances
    whose key is used within 20 minutes are eligible, to keep the lateness realistic.
    """
