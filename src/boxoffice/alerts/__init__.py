"""Checks that flag what needs a person's attention."""
