"""The local stack: teamcal on loopback with no AWS account and no Docker (dev tooling, not product).

A moto server stands in for AWS; the resources and routes come from template.yaml itself.
"""
