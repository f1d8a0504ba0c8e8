"""The benchmark's corpus: deterministic, in the S3 layout, and the contenders agree on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.bench_resolver import run_contender
from bench.corpus import corpus_files, write_corpus
from tests.cloudtrail.helpers import FAST_AVAILABLE

LAYOUT = re.compile(
    r"AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/"
    r"\1_CloudTrail_\2_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$"
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("corpus")
    write_corpus(6000, directory)
    return directory


def test_the_corpus_is_written_in_the_s3_trail_layout(corpus: Path) -> None:
    files = corpus_files(corpus)
    assert files
    for path in files:
        assert LAYOUT.search(path.relative_to(corpus).as_posix()), path


def test_the_same_seed_writes_the_same_bytes(corpus: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_corpus(6000, again)
    first = {p.relative_to(corpus): p.read_bytes() for p in corpus_files(corpus)}
    second = {p.relative_to(again): p.read_bytes() for p in corpus_files(again)}
    assert first == second


def test_both_resolvers_and_duckdb_attribute_the_ground_truth(corpus: Path) -> None:
    manifest = write_corpus(6000, corpus)
    truth = manifest["attributed"]
    assert truth > 3000
    contenders = ["resolver-stdlib", "duckdb", "interleaved-stdlib"]
    if FAST_AVAILABLE:
        contenders += ["resolver-fast", "interleaved-fast"]
    for contender in contenders:
        assert run_contender(contender, corpus, None)["attributed"] == truth, contender
