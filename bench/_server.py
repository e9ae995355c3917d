"""A throwaway embedded PostgreSQL for benchmarks (never the developer's .boxoffice/)."""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from boxoffice.warehouse import embedded, engine


def server():
    return embedded.temporary()


def fresh_database(server_url: str, name: str) -> str:
    with psycopg.connect(engine.libpq_url(make_url(server_url)), autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
