"""Google Calendar sync: the pure parts (no I/O, no Google client library).

* :mod:`.mapping` - Google Calendar API v3 event JSON → teamcal event records (masters, children,
  EXDATEs, deletions, all-day and time-zone rules).
* :mod:`.secrets` - what a connection authenticates with, and the OAuth client of the deployment.
* :mod:`.port` - the interface the sync and connection use cases need from Google
  (implemented with google-api-python-client in ``functions/google/client.py``, the only module that
  imports the Google libraries).
* :mod:`.errors` - Google's answers as teamcal's typed errors (the HTTP status is chosen in
  :mod:`teamcal.api` through the base classes).
"""
