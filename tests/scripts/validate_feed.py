#!/usr/bin/env python3
"""Validates a schedule.json against the vendored C3VOC JSON schema with Python's `jsonschema`
(independent of Meadow's Rust code), formats checked. Prints each error and exits 1 on any."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
checker = jsonschema.Draft6Validator.FORMAT_CHECKER
errors = list(jsonschema.Draft6Validator(schema, format_checker=checker).iter_errors(doc))
for e in errors[:20]:
    print("/".join(str(p) for p in e.path), e.message[:300])
sys.exit(1 if errors else 0)
