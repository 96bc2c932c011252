"""Watching the served model: its logs against its reference, alerts, and the retrain proposal."""
