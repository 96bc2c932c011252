"""Bounds every entry point shares: the service and the router in front of it.

Its own module, free of BentoML, so the router imports it without loading
the service (and the model) it fronts.
"""

MAX_BATCH = 1000
# A full batch as JSON is ~1.5 MB; anything past this bound is not a batch.
MAX_BODY_BYTES = 8 * 1024 * MAX_BATCH
