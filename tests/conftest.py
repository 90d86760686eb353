"""The fixture projects under fixtures/ are data for the contract tests, not tests to collect."""

collect_ignore = ["fixtures"]
