"""Running the DAG: one run per as_of date (runner), its parameters (context), the schedule."""
