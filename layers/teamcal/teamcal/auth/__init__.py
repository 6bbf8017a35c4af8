"""Tokens and the principal an authorized request acts as."""
