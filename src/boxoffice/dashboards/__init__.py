"""Voila dashboards' widget apps: widgets → callbacks → one layout, data through the package."""
