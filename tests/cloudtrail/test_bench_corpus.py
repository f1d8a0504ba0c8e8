"""The benchmark's corpus: deterministic, in the S3 layout, and the contenders agree on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.bench_resolver import run_contender
from devkit.corpus import CHURN, TODAY, corpus_files, write_corpus
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


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("churn")
    write_corpus(12000, directory, profile=CHURN)
    return directory


def test_both_resolvers_and_duckdb_attribute_the_ground_truth(corpus: Path) -> None:
    manifest = write_corpus(6000, corpus)
    truth = manifest["attributed"]
    assert truth > 3000
    contenders = ["resolver-stdlib", "duckdb", "interleaved-stdlib"]
    if FAST_AVAILABLE:
        contenders += ["resolver-fast", "interleaved-fast"]
    for contender in contenders:
        assert run_contender(contender, corpus, None)["attributed"] == truth, contender


@pytest.mark.parametrize("profile", ["today", "churn"])
def test_every_event_is_named_as_the_ground_truth_names_it(
    profile: str, corpus: Path, churn: Path
) -> None:
    directory = corpus if profile == "today" else churn
    manifest = write_corpus(
        6000 if profile == "today" else 12000,
        directory,
        profile=TODAY if profile == "today" else CHURN,
    )
    checks = ["check-stdlib"] + (["check-fast"] if FAST_AVAILABLE else [])
    for check in checks:
        result = run_contender(check, directory, None)
        assert result["attribution_digest"] == manifest["attribution_digest"], check
        assert result["attributed"] == manifest["attributed"], check
        assert result["emitted_twice"] == 0, check  # a small corpus: copies are within the window


def test_the_churn_profile_has_the_shape_it_promises(churn: Path) -> None:
    manifest = write_corpus(12000, churn, profile=CHURN)
    shape = manifest["shape"]
    assert (manifest["accounts"], manifest["regions"]) == (4, 4)
    assert 0.06 <= shape["assume_role_share"] <= 0.11
    assert 8 <= shape["calls_per_session"] <= 14
    assert 0.12 <= shape["read_before_share"] <= 0.30
    issued = shape["sessions_issued"]
    assert 0.18 <= shape["cross_account_calls"] / issued <= 0.32
    assert shape.get("chains_of_depth_4", 0) > 0  # chains go deeper than one hop
    assert not any(key.startswith("chains_of_depth_8") for key in shape)
    layout = {p.relative_to(churn).parts[1] for p in corpus_files(churn)}
    assert len(layout) == 4


def test_the_churn_profile_is_read_partly_before_its_issuances(churn: Path) -> None:
    """What makes the shape slow: sessions held until their AssumeRole arrives."""
    manifest = write_corpus(12000, churn, profile=CHURN)
    stdlib = run_contender("resolver-stdlib", churn, None)
    assert stdlib["held"] >= manifest["shape"]["read_before_issuance"] // 12
    assert stdlib["released"] > 0
