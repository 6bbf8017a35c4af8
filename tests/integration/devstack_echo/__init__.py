"""A tiny Lambda function used by the local stack's runtime tests (not a teamcal function)."""
