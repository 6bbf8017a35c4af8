"""Synchronization between two teamcal deployments, by invitation (issue 7).

The reference is Issue Sync Pro's synchronizations (shared/reference/issue-sync-invitations.txt):
one deployment invites (``INVITATION_SENT``), the other receives (``INVITATION_RECEIVED``) and
accepts or rejects; an accepted synchronization is ``NOT_CONFIGURED`` until a mapping says which
calendars replicate, then ``ACTIVE``; either side may delete it (``DELETED``) and remove a
``DELETED`` or ``REJECTED`` one from its list.

This package holds what is specific to talking to a partner deployment, which is untrusted:

* :mod:`.signing` — pure: the HMAC-SHA256 request signature, its headers and checks.
* :mod:`.urls` — the ``partnerUrl`` rules (https; plain http to loopback only in local
  development; no private, link-local or metadata addresses after DNS resolution) and our own
  base URL.
* :mod:`.protocol` — the wire models of the API bodies and of the partner webhooks.
* :mod:`.client` — the outbound HTTP client: pinned to the checked address, no redirects,
  timeouts, a cap on response size, typed errors.

The use cases are :mod:`teamcal.services.partners` (invitations, state machine, mappings,
webhooks) and :mod:`teamcal.services.replication` (outbox, sender, receiver of event changes).
"""
