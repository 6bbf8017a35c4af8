"""Event replication between partner deployments: :mod:`.outbox`, :mod:`.sender`, :mod:`.receiver`.

The transactional outbox is the events table's own stream (NEW_AND_OLD_IMAGES): every committed
change of an event's main item (``sk = "EV"``) is a stream record, so no change can be written
without being published, and nothing is published that was not written.

1. **Outbox** (:func:`.outbox.publish`, the stream consumer): for each record, the mappings of the event's
   calendar (one Query) that push to the partner each get a message on the FIFO sync queue:
   ``MessageGroupId = "<syncId>-<series root id>"`` (a master, its exceptions and a single event
   are each one group: per-event order, and an exception never overtakes its master), and a
   deduplication id from the stream record's id (a re-delivered record is sent once). A change
   that came FROM a partner (see loop-freedom) is not queued for that partner.
2. **Sender** (:func:`.sender.deliver`, the queue consumer): re-reads the event (the newest state is
   sent; a message whose event has gone sends nothing, the delete message follows), re-checks
   the synchronization (ACTIVE), the mapping and our scope (editable any time: an event that left
   it is sent as a delete), signs and POSTs the change. Outcomes: 2xx done; 4xx (but 408/429) or a
   refused answer: dropped and logged (retrying cannot help); no answer, 5xx, 408, 429: retried —
   the message's visibility is set to ``base * 2**(receives-1)`` seconds, at most 15 minutes,
   and every later message of the same group in the batch waits too (order), as does every later
   message for the same partner in the batch (it is down: do not wait out one timeout per
   message). With 100 receives before the dead-letter queue and 14 days' retention, a partner
   down for a day loses nothing.
3. **Receiver** (:func:`.receiver.apply_change`, behind the signed webhook): applies the change to the
   mapped local calendar, once per ``changeId`` (a receipt item written in the same transaction
   as the event), under the conflict rule: the newer ``updated`` wins, ``version`` breaks a tie;
   the losing change is logged and answered ``stale``.

Identity and loop-freedom: an event replicated here gets the id
``teamcal.ids.external_id(calendar_id, "partner:<syncId>", originEventId)`` (a re-delivery finds
the same event: never a duplicate) and ``origin = {synchronizationId, eventId}`` (its home
deployment's id). Every write the receiver makes stamps ``syncApplied = {synchronizationId,
version}``; the outbox sees ``syncApplied.version == version`` and does not send that change
back to that partner (a later local edit bumps ``version`` and is sent). A change to a replica
names the event by its home (``ref.home = "receiver"``), so it lands on the original, not on a
copy of a copy.

Deletes and tombstones: every delete of an event that matters to a partner leaves a tombstone
(:mod:`teamcal.storage.invitations`) with the delete's ``updated`` and ``version``: written by the
receiver in the delete's own transaction (naming the partner, so the outbox does not send the
REMOVE back), or by the outbox for a local delete (its time is the outbox's clock, just after the
delete: the stream's own timestamp has one-second precision). A change that arrives for a deleted
event is judged against its tombstone by the same conflict rule: an older one is ``stale``, a
newer one re-creates the event (so both sides converge on the newer of "deleted" and "edited").

Replica fields: the CCJ event fields of :class:`teamcal.partners.protocol.ReplicatedEvent`;
``reporter`` is ``partner:<syncId>``; ``updated`` is the partner's (so the conflict rule compares
like with like) and ``version`` is ``max(ours + 1, theirs)``. Bookkeeping writes (a master's
``overrides`` when an exception arrives) bump ``version`` but keep ``updated``.
"""
