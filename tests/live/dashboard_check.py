#!/usr/bin/env python3
"""Check the Grafana dashboard and the alert rules against a live
Prometheus that scrapes hydrascope: every query of the dashboard (panel
targets and template variables, with Grafana's variables filled in) must
run and return data, or at least name only series that Prometheus knows;
every series an alert rule uses must be known to it. Prints one line per
query, "OK ..." or "BAD ...".

usage: dashboard_check.py PROMETHEUS_URL DASHBOARD.json RULES.yml"""
import json
import re
import sys
import urllib.parse
import urllib.request

import yaml

# PromQL words that look like metric names but are not
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "offset", "bool", "le", "inf", "nan"}


def get(url, path, **params):
    q = urllib.parse.urlencode(params)
    with urllib.request.urlopen("%s/api/v1/%s?%s" % (url, path, q), timeout=10) as r:
        return json.load(r)


def series_names(expr):
    """Metric names of an expression: identifiers not followed by "("
    (functions), outside label matchers and strings, not keywords."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "{}", e)
    e = re.sub(r"\[[^\]]*\]", "[]", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or m.group(0).lower() in KEYWORDS:
            continue
        if m.start() and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue  # 1e9, 0.5
        names.add(m.group(0))
    return names


def dashboard_queries(dash):
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append(("panel %r" % p.get("title"), t["expr"]))
            walk(p.get("panels", []))
    walk(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.match(r"label_values\((.*),\s*\w+\)$", q or "")
        if m:
            out.append(("variable %s" % v["name"], m.group(1)))
    return out


def fill(expr):
    return (expr.replace("$__rate_interval", "1m").replace("$__interval", "1m")
            .replace("${instance}", ".+").replace("$instance", ".+"))


def main(url, dash_path, rules_path):
    known = set(get(url, "label/__name__/values")["data"])
    hs = sorted(n for n in known if n.startswith("hydrascope_"))
    print("INFO %d hydrascope series known to Prometheus" % len(hs))
    with open(dash_path) as f:
        dash = json.load(f)
    queries = dashboard_queries(dash)
    print("OK" if len(queries) >= 20 else "BAD only %d dashboard queries" % len(queries))
    for where, expr in queries:
        q = fill(expr)
        try:
            r = get(url, "query", query=q)
        except Exception as e:  # a 400 is a query Prometheus rejects
            print("BAD %s: %s: %s" % (where, q, e))
            continue
        if r.get("status") != "success":
            print("BAD %s: %s: %s" % (where, q, r.get("error")))
        elif r["data"]["result"]:
            print("OK %s returns data" % where)
        else:
            unknown = series_names(q) - known
            print("%s %s: no data%s" % ("BAD" if unknown else "OK", where,
                                         ", unknown series %s" % sorted(unknown) if unknown else
                                         " yet, every series known"))
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    for g in rules["groups"]:
        for rule in g["rules"]:
            names = series_names(rule["expr"])
            unknown = names - known
            print("%s rule %s uses %s%s" % ("BAD" if unknown else "OK", rule.get("alert") or rule.get("record"),
                                            sorted(names), ", unknown %s" % sorted(unknown) if unknown else ""))
            for a in ("summary", "description", "runbook"):
                if not rule.get("annotations", {}).get(a):
                    print("BAD rule %s has no %s annotation" % (rule.get("alert"), a))


if __name__ == "__main__":
    main(*sys.argv[1:4])
