"""The supervision hub: the regulator's side that receives, verifies and shows reports.

- ``ingest.py``: every rule for one message (verify against the registered key of the
  facility the topic names, de-duplicate by ``(facility, seq)``, gaps, births and Wills,
  alerts, the latest compliance; refusals recorded with a code).
- ``worker.py``: the MQTT client (``$share/hub/<prefix>/+/+``, persistent session, manual
  acknowledgement after the batch is committed).
- ``web.py``: the read-only regulator view (Chinese) and JSON feed under ``/api/v1``.
- ``cli.py``: ``carewatch hub run|register|status|db-upgrade``; ``component.py`` runs the
  hub as a child process of ``carewatch up``.

Scaling out: run more ``carewatch hub run`` processes against the same database and
broker, each with its own stable ``--client-id`` (the broker keeps each one's session and
queues for it while it is down). Every piece of state is in the database. The web view
has no sign-in of its own: it binds 127.0.0.1 by default, and in production sits behind
the regulator's sign-in proxy.
"""
