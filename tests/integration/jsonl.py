"""Reading what the file output wrote, for the integration tests: one JSON
object per line, refused if an object holds a key twice (sluice never
writes one; Elasticsearch refuses such documents)."""
import json


def _unique(pairs):
    keys = [k for k, _ in pairs]
    assert len(set(keys)) == len(keys), f"a key twice: {pairs}"
    return dict(pairs)


def read(path):
    with open(path) as f:
        return [json.loads(line, object_pairs_hook=_unique) for line in f]
