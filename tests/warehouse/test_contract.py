"""docs/source-contract.md against the contract in code: every table, column, type,
nullability, key and allowed value the document shows is the code's, and nothing is left out."""

import re
from pathlib import Path

from boxoffice.synth import world
from boxoffice.warehouse import contract, schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "source-contract.md"


def documented() -> dict[str, list[list[str]]]:
    """Each ``### table`` section's rows: column, type, null, key, rule (backticks kept)."""
    tables, current = {}, None
    for line in DOC.read_text().splitlines():
        if heading := re.fullmatch(r"### (\w+)", line):
            current = tables.setdefault(heading[1], [])
        elif current is not None and line.startswith("| `"):
            current.append([cell.strip() for cell in line.strip("|").split("|")])
    return tables


def test_the_document_shows_every_contract_table_and_column_as_the_code_defines_it():
    tables = documented()
    assert list(tables) == [t.name for t in contract.TABLES]
    for table in contract.TABLES:
        shown = [(c, t, n, k) for c, t, n, k, _ in tables[table.name]]
        expected = [
            (f"`{c.name}`", c.type, "yes" if c.nullable else "no", c.key)
            for c in contract.describe(table)
        ]
        assert shown == expected, table.name


def test_the_document_lists_exactly_the_allowed_values():
    tables = documented()
    for (table, column), values in contract.ALLOWED.items():
        [rule] = [r for c, _, _, _, r in tables[table] if c == f"`{column}`"]
        assert re.findall(r"`([^`]+)`", rule) == list(values), (table, column)


def test_every_check_on_a_listed_column_is_in_the_contract():
    """A check constraint naming allowed values ('x in (...)') is one of ALLOWED's."""
    for table in contract.TABLES:
        for check in table.constraints:
            text = str(getattr(check, "sqltext", ""))
            if found := re.fullmatch(r"(\w+) in \((.*)\)", text):
                values = tuple(v.strip(" '") for v in found[2].split(","))
                assert contract.ALLOWED[(table.name, found[1])] == values


def test_the_synthetic_world_draws_from_the_contract():
    assert world.CATEGORIES is schema.CATEGORIES
    assert world.CHANNELS is schema.CHANNELS
    assert world.TICKET_TYPES is schema.TICKET_TYPES


def test_contract_types_are_postgresql_names():
    names = {c.type for t in contract.TABLES for c in contract.describe(t)}
    assert names == {"uuid", "text", "integer", "bigint", "timestamptz"}
