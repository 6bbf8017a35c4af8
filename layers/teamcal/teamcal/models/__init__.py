"""Pydantic models of the wire format (CCJ field names) and of teamcal's own resources."""
