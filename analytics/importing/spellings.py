"""An office's own header spellings: confirmed by an administrator, kept, audited, removable.

A county writes 搬迁人口数 where the template says 搬迁人口. The importer proposes the field
an unrecognised header most likely means (``schema.propose``); an administrator confirms it
at upload (or ``ingest --map 搬迁人口数=persons``), and from then on the office's database
reads that spelling as that field through the one lookup every import path uses
(``schema.header_lookup`` with ``Store.spellings``).
"""

from __future__ import annotations

from analytics.access import accounts
from analytics.domain import schema
from analytics.domain.labels import Both
from analytics.importing.results import MessageError
from analytics.store.database import Store


class SpellingError(MessageError, ValueError):
    """A spelling cannot be confirmed as asked; the messages say why."""


def confirm(store: Store, header: str, target: str, *, by: str) -> tuple[str, str]:
    """Keeps ``header`` as a spelling of the field ``target`` names, and audits it.

    Parameters
    ----------
    header : the header as written in the file ("搬迁人口数（人）"); kept normalised
        (``schema.header_key``: "搬迁人口数").
    target : a field key ("persons") or a spelling of one ("搬迁人口").
    by : the account confirming it (audit log).

    Returns
    -------
    (spelling, field key).

    Raises
    ------
    SpellingError
        An empty header, a target that names no field (or several), or a header that is
        already a spelling of another field of a table that has ``target``'s field.
    """
    spelling = schema.header_key(header)
    if not spelling:
        raise SpellingError.of("msg_spelling_empty")
    try:
        key = schema.resolve_field(target)
    except KeyError:
        raise SpellingError.of("msg_spelling_no_field", target=target) from None
    for table in schema.field_tables(key):
        known = schema.header_lookup(table).get(spelling)
        if known is not None and known != key:
            raise SpellingError.of(
                "msg_spelling_taken",
                header=header,
                table=Both(table.label, table.key),
                field=Both(table.by_key[known].header, known),
            )
    with store.write() as cur:
        cur.execute(
            "INSERT OR REPLACE INTO header_spellings VALUES (?, ?, ?, ?, now())",
            [spelling, key, str(header), by],
        )
        accounts.log(cur, by, "confirm_spelling", {"header": str(header), "field": key})
        store.bump(cur)
    return spelling, key


def remove(store: Store, spelling: str, *, by: str) -> bool:
    """Forgets one of the office's spellings (audited); False when it was not kept."""
    spelling = schema.header_key(spelling)
    with store.write() as cur:
        found = cur.execute(
            "SELECT field FROM header_spellings WHERE spelling = ?", [spelling]
        ).fetchone()
        if found is None:
            return False
        cur.execute("DELETE FROM header_spellings WHERE spelling = ?", [spelling])
        accounts.log(cur, by, "remove_spelling", {"spelling": spelling, "field": found[0]})
        store.bump(cur)
    return True
