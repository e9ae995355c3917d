"""Alerts: rules as code (``alerts.yaml``), their metrics, evaluation and notification."""
