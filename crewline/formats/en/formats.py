# Crewline's formats (see crewline/formats/__init__.py); the names of days and months follow
# the language. English titles month abbreviations: "3 Dec 2026".
MONTH_ABBREVIATION_LOWER = False
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
# Units of durations (crewline/formats/durations.py): days, hours, minutes.
DURATION_UNITS = {"d": "d", "h": "h", "min": "min"}
