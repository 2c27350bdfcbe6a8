"""The AWS block the cost sources use is prefect-aws's AwsCredentials: check it the same way."""

from __future__ import annotations

import pytest
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from prefect_aws import AwsCredentials


class TestAwsCredentials(BlockStandardTestSuite):
    @pytest.fixture
    def block(self):
        return AwsCredentials
