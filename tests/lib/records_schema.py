"""Validate hydrascope's JSON records against deploy/schema/ (one JSON
Schema, draft 2020-12, per record type; envelope.json holds the fields
every record shares). Used by the scenario, peer, schema and live tests
on every record they read; as a script, validates JSON-lines files (or
single JSON documents, such as the status file) and prints one line per
invalid record: `records_schema.py FILE...`, exit 1 if any."""
import glob
import json
import os
import sys

from jsonschema import Draft202012Validator

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "schema")


def _load():
    schemas = {}
    for p in sorted(glob.glob(os.path.join(SCHEMA_DIR, "*.json"))):
        with open(p) as f:
            schemas[os.path.basename(p)[:-5]] = json.load(f)
    try:  # jsonschema >= 4.18
        from referencing import Registry, Resource
        reg = Registry().with_resources(
            [(s["$id"], Resource.from_contents(s)) for s in schemas.values()])

        def make(s):
            return Draft202012Validator(s, registry=reg,
                                        format_checker=Draft202012Validator.FORMAT_CHECKER)
    except ImportError:  # Debian 12's 4.10
        from jsonschema import RefResolver
        store = {s["$id"]: s for s in schemas.values()}

        def make(s):
            return Draft202012Validator(s, resolver=RefResolver.from_schema(s, store=store),
                                        format_checker=Draft202012Validator.FORMAT_CHECKER)
    for s in schemas.values():
        Draft202012Validator.check_schema(s)
    return schemas, {t: make(s) for t, s in schemas.items() if t != "envelope"}


SCHEMAS, VALIDATORS = _load()


def errors(rec):
    """Why rec is not a valid record ([] if it is)."""
    if not isinstance(rec, dict):
        return ["not an object"]
    t = rec.get("type")
    v = VALIDATORS.get(t) if isinstance(t, str) else None
    if v is None:
        return ["no schema for type %r" % rec.get("type")]
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(record)", e.message)
            for e in v.iter_errors(rec)]


def check_all(recs, what, check):
    """One check() per record type seen in recs: every one of them valid."""
    by_type = {}
    for r in recs:
        by_type.setdefault(r.get("type") if isinstance(r, dict) else None, []).append(r)
    for t, rs in sorted(by_type.items(), key=lambda kv: str(kv[0])):
        bad = [(r, errors(r)) for r in rs]
        bad = [(r, e) for r, e in bad if e]
        check(not bad, "%s: %d of %d %s records fail deploy/schema/%s.json: %s" % (
            what, len(bad), len(rs), t, t, bad[0][1][:3] if bad else ""))


def main(paths):
    n = bad = 0
    for p in paths:
        with open(p) as f:
            text = f.read()
        try:
            docs = [json.loads(text)]
        except ValueError:
            docs = [json.loads(l) for l in text.splitlines() if l.strip()]
        for i, d in enumerate(docs):
            n += 1
            for e in errors(d):
                bad += 1
                print("%s:%d: %s" % (p, i + 1, e))
    print("%d records, %d errors" % (n, bad))
    return 1 if bad or not n else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
