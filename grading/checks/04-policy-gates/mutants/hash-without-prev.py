# exercise: audit-append
# why: prev is stored but left out of the hash, so records are not linked
def append_record(chain: list[dict[str, Any]], actor: str, action: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Append one hash-chained record to ``chain`` and return it."""
    # BEGIN SOLUTION
    body = {"seq": len(chain) + 1, "actor": actor, "action": action, "data": dict(data),
            "prev": chain[-1]["hash"] if chain else GENESIS}
    record = {**body, "hash": hashlib.sha256(canonical({k: v for k, v in body.items() if k != "prev"})).hexdigest()}
    chain.append(record)
    return record
    # END SOLUTION
