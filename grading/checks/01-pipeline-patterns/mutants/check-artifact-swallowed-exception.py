# exercise: check-artifact
# why: catches its own ValidationFailed and only prints it, so bad data passes the gate
def check_artifact(split: Split, ranges: Mapping[str, Range]) -> Split:
    """Validate a split against per-column ranges; return it unchanged when it passes."""
    try:
        for column in ranges:
            if column not in split.columns:
                raise ValidationFailed(f"column {column!r} is missing")
        for part, rows in (("X_train", split.X_train), ("X_test", split.X_test)):
            if not rows:
                raise ValidationFailed(f"{part} has no rows")
            for column, (low, high) in ranges.items():
                j = split.columns.index(column)
                for i, row in enumerate(rows):
                    if not low <= row[j] <= high:
                        raise ValidationFailed(f"column {column!r}: {part}[{i}] is out of range")
    except ValidationFailed as exc:
        print(f"warning: {exc}")
    return split
