"""The on-disk layout of a pinrec SQLite catalog, shared by the loader (writer) and the store (reader)."""

SCHEMA_VERSION = "1"

CREATE_STATEMENTS = (
    "CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID",
)

# SQLite builds before 3.32 cap bound parameters at 999.
MAX_PARAMETERS_PER_QUERY = 900
