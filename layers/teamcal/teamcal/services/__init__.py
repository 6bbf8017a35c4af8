"""Use cases. Each takes its repositories as arguments and knows nothing of HTTP or boto3."""
