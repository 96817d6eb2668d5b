"""The one change log, and the office's live updates that read it over Server-Sent Events.

Every service that changes what a page, a phone or the API shows writes a ``Change`` row in its
own transaction (``services.change_record`` and its helpers); after the commit, rows with
topics are published through the broker ``LIVE_BROKER`` names (``broker``). The phones' pull
(``crewline.field.selectors.pull``) reads the same rows by kind; ``/live/stream/?topics=...``
streams the member's organization's changes on those topics, catching up from the log after a
dropped connection (``Last-Event-ID``). ``static/live/live.js`` re-fetches the parts of a page
that declare ``data-live-topics``.

Topics: ``wo:<work order id>`` (its page), ``quote:<quote id>``, ``list`` (the work order list,
the dashboard and the board's queue), ``board:<YYYY-MM-DD>`` (the board's day, in the
organization's time zone) and ``member:<member id>`` (a technician's own visits). Settings:
``LIVE_BROKER`` (memory, redis, postgres), ``REDIS_URL``, ``LIVE_HEARTBEAT_SECONDS``,
``LIVE_POLL_SECONDS``.
"""
