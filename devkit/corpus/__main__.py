"""``python -m devkit.corpus --profile today --records N``: write a corpus, print its manifest."""

import sys

from devkit.corpus.writer import main

sys.exit(main())
