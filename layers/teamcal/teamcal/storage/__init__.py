"""DynamoDB repositories: the only code that knows table names, keys and item shapes."""
