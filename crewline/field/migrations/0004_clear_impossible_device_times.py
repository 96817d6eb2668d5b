"""Times from phones that no database read can return: before this, a mutation's client time
was stored as sent, and PostgreSQL keeps years Python's datetime cannot hold
(``9999-12-31T23:59:59-12:00`` is the year 10000 in UTC), so every pull that read such a row
failed. Pushes now refuse client times far from the server's clock; this clears the ones
already stored: device times become unknown, a visit's arrival and finish become the time the
server recorded them, and a time entry's start and end the time the server wrote it.

Only PostgreSQL can hold them (SQLite refused them on the way in), so elsewhere this does
nothing.
"""

from django.db import migrations

# Anything outside these is impossible for a phone's clock, and safely inside what Python and
# every time zone offset can convert.
EARLIEST, LATEST = "1900-01-01 00:00:00+00", "2200-01-01 00:00:00+00"
# The status entries' events that set a visit's arrival and finish (SQL literals).
ARRIVED, FINISHED = "'arrive'", "'complete', 'incomplete'"


def clear_impossible_device_times(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    q = connection.ops.quote_name
    entry = q(apps.get_model("workorders", "TimelineEntry")._meta.db_table)
    visit = q(apps.get_model("workorders", "Visit")._meta.db_table)
    rejected = q(apps.get_model("field", "RejectedMutation")._meta.db_table)
    time_entry = q(apps.get_model("timesheets", "TimeEntry")._meta.db_table)

    def impossible(column: str) -> str:
        return f"({column} < %(earliest)s OR {column} >= %(latest)s)"

    def recorded(events: str) -> str:
        """The server's time of the visit's latest status entry for one of ``events``."""
        return (f"(SELECT e.created_at FROM {entry} e WHERE e.visit_id = {visit}.id "
                f"AND e.kind = 'visit_status' AND e.data->>'event' IN ({events}) "
                f"ORDER BY e.id DESC LIMIT 1)")

    bounds = {"earliest": EARLIEST, "latest": LATEST}
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {entry} SET device_time = NULL "
                       f"WHERE {impossible('device_time')}", bounds)
        cursor.execute(f"UPDATE {rejected} SET client_time = NULL "
                       f"WHERE {impossible('client_time')}", bounds)
        cursor.execute(f"UPDATE {visit} SET arrived_at = {recorded(ARRIVED)} "
                       f"WHERE {impossible('arrived_at')}", bounds)
        cursor.execute(f"UPDATE {visit} SET finished_at = "
                       f"{recorded(FINISHED)} "
                       f"WHERE {impossible('finished_at')}", bounds)
        cursor.execute(f"UPDATE {time_entry} SET start = created_at "
                       f"WHERE {impossible('start')}", bounds)
        cursor.execute(f'UPDATE {time_entry} SET "end" = GREATEST(start, updated_at) '
                       f'WHERE {impossible(q("end"))}', bounds)


class Migration(migrations.Migration):

    dependencies = [
        ("field", "0003_settledmutation"),
        ("timesheets", "0002_timesheetsettings_timesheetapproval"),
        ("workorders", "0002_visit_sequence_workorder_checklist_and_more"),
    ]

    operations = [
        migrations.RunPython(clear_impossible_device_times, migrations.RunPython.noop),
    ]
