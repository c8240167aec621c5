#!/usr/bin/env python3
"""Reads an iCalendar file with the `icalendar` library (independent of Meadow's Rust code) and
prints each event's UID with its start and end as Unix seconds, one JSON object per line.
Times with a TZID are resolved the way calendar apps do: by the file's VTIMEZONE or, failing that,
the tz database."""
import json
import sys

import icalendar

cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
for ev in cal.walk("VEVENT"):
    start = ev.decoded("DTSTART")
    end = ev.decoded("DTEND")
    if start.tzinfo is None or end.tzinfo is None:
        sys.exit(f"{ev.get('UID')}: a time without a zone is ambiguous")
    print(json.dumps({
        "uid": str(ev.get("UID")),
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
        "categories": [str(c) for c in ev.get("CATEGORIES").cats] if ev.get("CATEGORIES") else [],
    }))
