"""Helpers shared by the test suites: servers on ephemeral ports and line-level clients."""
