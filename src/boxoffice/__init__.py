"""boxoffice — analytics workbench for live-event ticketing on PostgreSQL."""

__version__ = "0.1.0"
