# Reading results stores from the Python tests: read-only queries that never take a lock a running
# isc would wait for, and the round count of a store that may not exist yet.
import sqlite3


def query(path, sql, params=()):
    """All rows of `sql` on the store at `path`, opened read-only."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def count_rounds(path):
    """Rounds stored so far; 0 while the store does not exist or is being created."""
    try:
        return query(path, "SELECT COUNT(*) FROM rounds")[0][0]
    except sqlite3.Error:
        return 0
