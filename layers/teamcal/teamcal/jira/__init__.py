"""Jira-backed sources (issue 15): the Jira REST client, its credentials and errors, and the pure
mapping of issues, sprints and versions to calendar events."""
