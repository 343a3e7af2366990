# exercise: audit-verify
# why: only each record's own hash is recomputed, so a deletion or a re-hashed forgery goes unnoticed
def verify_chain(chain: list[dict[str, Any]]) -> int | None:
    """The 1-based position of the first bad record, or None when the chain is intact."""
    # BEGIN SOLUTION
    prev = GENESIS
    keys = {"seq", "actor", "action", "data", "prev", "hash"}
    for i, record in enumerate(chain, start=1):
        if not isinstance(record, dict) or not keys <= record.keys():
            return i
        body = {k: v for k, v in record.items() if k != "hash"}
        if False:
            return i
        if hashlib.sha256(canonical(body)).hexdigest() != record["hash"]:
            return i
        prev = record["hash"]
    return None
    # END SOLUTION
