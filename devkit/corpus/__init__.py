"""Realistic CloudTrail corpora in the S3 layout, generated deterministically for benchmarks.

``python -m devkit.corpus --profile today --records 1000000`` writes ``.bench/<profile>-<records>/
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_
<random>.json.gz`` (gzip ``{"Records": [...]}``, records of ~1.5 KB shuffled inside a file,
files named by their delivery minute) and ``manifest.json`` with the ground truth every
contender must reproduce and the shape the corpus actually has (AssumeRole share, calls per
session, session calls read before their issuance, cross-account pairs, chain depth).

Two trail shapes (``PROFILES``), both from one generator whose knobs are a ``Profile``:

* ``today``: per 5-minute delivery slot of 3 accounts x 2 Regions, a pool of 60 long-lived
  human sessions per account (hundreds of calls each), 15 % of them chaining into a second
  role (a third of those in another account), 70 % of users calling from a hub account;
  10 % of AssumeRole records delivered one file late.
* ``churn``: an organization trail of 4 accounts x 4 Regions where sessions are short (about
  11 calls each, so AssumeRole is about 8 % of records), a quarter of AssumeRole calls cross
  accounts (logged in both accounts, distinct ``eventID``s, one ``sharedEventID``), chains
  up to 7 roles deep, and about a fifth of session calls read before their issuing
  AssumeRole (late delivery, and the caller account's file read after the role account's).

Both also hold IAM users calling with their ``AKIA…`` keys, EC2 instances and Lambda
functions whose role sessions AWS services issued, AWS service events, keys whose issuance
predates the corpus (unattributable), and 0.1 % of records delivered twice.
"""

from devkit.corpus.generator import (
    Generator,
    Output,
    Session,
    add_digests,
    attribution_digest,
    object_key,
)
from devkit.corpus.profile import (
    ACCOUNTS,
    CHURN,
    DEFAULT_DIR,
    ORG_ACCOUNTS,
    ORG_REGIONS,
    PROFILES,
    RECORDS_PER_FILE,
    REGIONS,
    SEED,
    SESSION_POOL,
    SLOT,
    START,
    TODAY,
    WORKLOADS_PER_PREFIX,
    Profile,
)
from devkit.corpus.writer import (
    GENERATOR_VERSION,
    corpus_dir,
    corpus_files,
    iter_objects,
    main,
    write_corpus,
)

__all__ = [
    "ACCOUNTS",
    "CHURN",
    "DEFAULT_DIR",
    "GENERATOR_VERSION",
    "ORG_ACCOUNTS",
    "ORG_REGIONS",
    "PROFILES",
    "RECORDS_PER_FILE",
    "REGIONS",
    "SEED",
    "SESSION_POOL",
    "SLOT",
    "START",
    "TODAY",
    "WORKLOADS_PER_PREFIX",
    "Generator",
    "Output",
    "Profile",
    "Session",
    "add_digests",
    "attribution_digest",
    "corpus_dir",
    "corpus_files",
    "iter_objects",
    "main",
    "object_key",
    "write_corpus",
]
