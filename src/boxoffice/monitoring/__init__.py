"""Data checks: reconciliation of ingested behaviour events against their own trailing volume
and against the platform's orders (not alerts: those are rules that notify people)."""
