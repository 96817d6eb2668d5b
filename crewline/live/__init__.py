"""Live updates of the office's pages over Server-Sent Events.

A change to a work order, a visit or a timeline writes ``Event`` rows in its own transaction
(``receivers``); after the commit they are published through the broker ``LIVE_BROKER`` names
(``broker``). ``/live/stream/?topics=...`` streams the member's organization's events, catching
up from the log after a dropped connection (``Last-Event-ID``). ``static/live/live.js``
re-fetches the parts of a page that declare ``data-live-topics``.

Topics: ``wo:<work order id>`` (its page), ``list`` (the work order list and the board's
queue), ``board:<YYYY-MM-DD>`` (the board's day, in the organization's time zone) and
``member:<member id>`` (a technician's own visits). Settings: ``LIVE_BROKER`` (memory, redis,
postgres), ``REDIS_URL``, ``LIVE_HEARTBEAT_SECONDS``, ``LIVE_POLL_SECONDS``.
"""
