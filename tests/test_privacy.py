"""customer_key is HMAC-SHA256 (RFC 2104); the SQL form matches the Python reference."""

import hashlib

import pytest

from boxoffice import privacy


def test_customer_key_is_hmac_sha256_rfc_4231_case_2():
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    key = privacy.customer_key("what do ya want for nothing?", key=b"Jefe")
    assert key == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_pads_of_a_long_key_hash_it_first():
    long_key = b"k" * 100
    pads = privacy.hmac_pads(long_key)
    assert len(pads["ipad"]) == len(pads["opad"]) == privacy.BLOCK
    short = privacy.hmac_pads(hashlib.sha256(long_key).digest())
    assert pads == short


@pytest.mark.parametrize("key", [b"Jefe", b"x" * 64, b"y" * 131], ids=["short", "block", "long"])
def test_sql_hmac_matches_python(migrated_db, key):
    import sqlalchemy as sa

    from boxoffice.warehouse import engine

    message = "8f0c2a4e-3d7b-4a1e-9c55-0d2b8e6f1a33"
    with engine.connect() as conn:
        sql_key = conn.execute(
            sa.text(
                "select encode(sha256(:opad || sha256(:ipad || convert_to(:m, 'UTF8'))), 'hex')"
            ),
            {"m": message, **privacy.hmac_pads(key)},
        ).scalar_one()
    assert sql_key == privacy.customer_key(message, key=key)
