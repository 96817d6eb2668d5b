# Crewline's formats (see crewline/formats/__init__.py); the names of days and months follow
# the language. Spanish writes months in lower case: "3 dic 2026".
DATE_FORMAT = "j b Y"
SHORT_DATE_FORMAT = "j b Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j b Y, H:i"
SHORT_DATETIME_FORMAT = "j b Y, H:i"
# Units of durations (crewline/formats/durations.py): days, hours, minutes.
DURATION_UNITS = {"d": "d", "h": "h", "min": "min"}
