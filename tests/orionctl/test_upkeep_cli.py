"""S3 URLs of the upkeep commands (no services)."""

from __future__ import annotations

import pytest

from orion.exceptions import ConfigurationError
from orionctl.cli.upkeep import parse_s3_url


def test_s3_url_with_bucket_and_key() -> None:
    assert parse_s3_url("s3://b/backups/x.dump", "TO", "dflt") == ("b", "backups/x.dump")


def test_three_slashes_mean_the_default_bucket() -> None:
    assert parse_s3_url("s3:///exports/warehouse/", "--export-to", "dflt") == (
        "dflt",
        "exports/warehouse",
    )


@pytest.mark.parametrize("bad", ["/tmp/x", "s3://bucket", "s3:///"])
def test_not_an_s3_url_or_no_key_says_what_to_give(bad: str) -> None:
    with pytest.raises(ConfigurationError) as e:
        parse_s3_url(bad, "--export-to", "dflt")
    assert "--export-to" in str(e.value)
