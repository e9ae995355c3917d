"""Behaviour events in: CloudEvents NDJSON → validated, pseudonymized, deduplicated, stored.

``ingest_path`` / ``ingest_stream`` load one input as one batch (:mod:`.batch`);
:mod:`.validate` holds the schema rules, :mod:`.pseudonymize` the privacy rules,
:mod:`.landing` picks up new files from a folder, :mod:`.retention` drops old months.
"""

from boxoffice.ingest.batch import BatchResult, InputError, ingest_path, ingest_stream
from boxoffice.ingest.validate import Rejection

__all__ = ["BatchResult", "InputError", "Rejection", "ingest_path", "ingest_stream"]
