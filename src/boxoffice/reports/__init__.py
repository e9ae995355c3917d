"""Figures and artifacts shared by report notebooks and dashboards."""
