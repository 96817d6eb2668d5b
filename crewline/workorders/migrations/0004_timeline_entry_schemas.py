"""Timeline entries written before each kind had a schema (crewline/workorders/timeline.py) are
brought to it: labor names its member as ``member_id`` (some rows said ``member``, one reader
``member_id``) and keeps what was done in the body; visit status entries all say their event;
parts, signatures and checklist answers have their fields; keys no kind holds are dropped.

The conversion is a plain function of the row (``convert``), kept here as it was when written,
so the migration does the same whatever the code becomes; its test checks the result against
the schemas of the day.
"""

from decimal import Decimal, InvalidOperation

from django.db import migrations

VISIT_EVENTS = {"en_route": "en_route", "on_site": "arrive", "done": "complete",
                "incomplete": "incomplete", "cancelled": "cancel", "scheduled": "resume"}
SYSTEM_EVENTS = {"created", "edited", "visibility", "follow_up", "report_created",
                 "report_emailed", "report_email_failed"}
SYSTEM_KEYS = {"event", "fields", "entry", "kind", "from", "to", "visit", "report", "version",
               "attempts", "error"}


def _int(value, default=None):
    if value is None or isinstance(value, bool) or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _text(value, limit):
    return ("" if value is None else str(value)).strip()[:limit]


def convert(kind, data, body, author_id):
    """``(data, body)`` of an entry as its kind's schema holds them."""
    data = dict(data) if isinstance(data, dict) else {}
    if kind in ("note", "file"):
        return {}, body
    if kind == "photo":
        upload = data.get("upload")
        return ({"upload": str(upload)} if upload else {"upload": None}), body
    if kind == "signature":
        return {"signer_name": _text(data.get("signer_name") or body or "Customer", 200)}, body
    if kind == "checklist":
        answer = data.get("answer")
        if not (answer is None or isinstance(answer, bool | int | float | str)):
            answer = str(answer)
        if isinstance(answer, str):
            answer = answer[:2000]
        item_kind = data.get("kind") if data.get("kind") in (
            "yes_no", "number", "text", "photo") else "other"
        return {"index": max(0, _int(data.get("index"), 0)),
                "label": _text(data.get("label"), 500), "kind": item_kind,
                "answer": answer}, body
    if kind == "part":
        try:
            quantity = Decimal(str(data.get("quantity")))
        except (InvalidOperation, ValueError):
            quantity = Decimal(1)
        if not quantity.is_finite() or not (0 < quantity <= 100000):
            quantity = Decimal(1)
        quantity = quantity.quantize(Decimal("0.0001")).normalize()
        return {"name": _text(data.get("name") or body or "Part", 200),
                "quantity": format(quantity, "f"), "unit": _text(data.get("unit"), 20),
                "price_book_item_id": _int(data.get("price_book_item_id")),
                "code": _text(data.get("code"), 40)}, body
    if kind == "labor":
        minutes = min(max(_int(data.get("minutes"), 0), 0), 24 * 60)
        member = _int(data.get("member_id")) or _int(data.get("member")) or author_id
        if not body and data.get("description"):
            body = _text(data["description"], 500)
        return {"minutes": minutes, "member_id": member}, body
    if kind == "status":
        return {"from": _text(data.get("from"), 20), "to": _text(data.get("to"), 20),
                "action": _text(data.get("action"), 20)}, body
    if kind == "visit_status":
        to = _text(data.get("to"), 20)
        event = data.get("event") or VISIT_EVENTS.get(to, "resume")
        out = {"event": event, "from": _text(data.get("from"), 20), "to": to,
               "paused": bool(data.get("paused")), "outcome": _text(data.get("outcome"), 20)}
        return out, body
    if kind == "schedule":
        crew = data.get("crew") if isinstance(data.get("crew"), list) else []
        return {"event": _text(data.get("event") or "visit_changed", 40),
                "start": data.get("start") or None, "end": data.get("end") or None,
                "crew": [_text(name, 200) for name in crew],
                "from_start": data.get("from_start") or None,
                "from_end": data.get("from_end") or None}, body
    if kind == "system":
        out = {k: v for k, v in data.items() if k in SYSTEM_KEYS}
        if out.get("event") not in SYSTEM_EVENTS:
            out["event"] = "edited"
        for key in ("entry", "visit", "report", "version", "attempts"):
            if key in out:
                out[key] = _int(out[key])
        for key, limit in (("kind", 20), ("from", 20), ("to", 320), ("error", 500)):
            if key in out:
                out[key] = _text(out[key], limit)
        if "fields" in out:
            out["fields"] = [str(f) for f in out["fields"]] if isinstance(
                out["fields"], list) else []
        return out, body
    return data, body


def forwards(apps, schema_editor):
    TimelineEntry = apps.get_model("workorders", "TimelineEntry")
    batch = []
    for entry in (TimelineEntry.objects.only("id", "kind", "data", "body", "author_id")
                  .order_by("id").iterator(chunk_size=2000)):
        data, body = convert(entry.kind, entry.data, entry.body, entry.author_id)
        if data != entry.data or body != entry.body:
            entry.data, entry.body = data, body
            batch.append(entry)
        if len(batch) >= 500:
            TimelineEntry.objects.bulk_update(batch, ["data", "body"])
            batch = []
    if batch:
        TimelineEntry.objects.bulk_update(batch, ["data", "body"])


class Migration(migrations.Migration):

    dependencies = [
        ("workorders", "0003_visit_outcome"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
