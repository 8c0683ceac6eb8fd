#!/usr/bin/env python3
"""Classifies every decision of an mpicd audit log (and its rotated files) for the soak and its reproduction
(bench/soak/freeze.sh, docs/reliability.md "Soak"), and checks the quorum arithmetic of each record:

  - a valid unit has at least quorum_count passing perspectives in its last attempt, from at least 2 RIRs when more
    than 2 perspectives were used, and quorum_result's count is exactly its passes;
  - an invalid unit is short of that quorum, and at the moment it was decided the quorum was out of reach: the
    passes plus the perspectives still running (cancelled once the decision was certain, never counted) could not
    reach quorum_count or span 2 RIRs. (With a request deadline, pending ones count as failures: also unreachable.)

For each invalid decision on a name other than the attacked one it prints why each perspective did not corroborate
(the error type, e.g. mpic_error:caa_checker:timeout) and how long it took, then a histogram of those signatures.
Exit status: 0 when every record's arithmetic holds and no decision about --attacked was valid; 1 otherwise.

Usage: classify.py [--attacked NAME] [--freeze FROM_MS UNTIL_MS] [--show N] AUDIT_LOG
"""
import argparse
import collections
import json
import os
import sys

PASS = {"pass", "permission"}


def files_of(active):
    rotated = []
    i = 1
    while os.path.exists(f"{active}.{i}"):
        rotated.insert(0, f"{active}.{i}")
        i += 1
    return rotated + [active]


def records(active):
    for path in files_of(active):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    yield json.loads(line)


def kind_of(p):
    """How one perspective ended: pass, or the last word of its first error type (timeout, lookup, cancelled...)."""
    if p.get("result") in PASS:
        return "pass"
    errors = p.get("errors") or []
    if errors:
        kind = errors[0].get("type", "?").rsplit(":", 1)[-1]
        if kind == "lookup" and "timeout" in errors[0].get("message", "").lower():
            return "dns-timeout"  # every try of a lookup went unanswered (c-ares ARES_ETIMEOUT)
        return kind
    return p.get("result", "?")  # a definite fail / prohibition without an error


def check_unit(unit):
    """The arithmetic of one unit (target, check type): a list of violations (empty when it holds)."""
    attempt = unit["attempts"][-1]
    n = unit["perspective_count"]
    q = unit["quorum_count"]
    # A primary (if configured) is the first entry, not one of the perspective_count remotes; its failure alone makes
    # the unit invalid (standards §1.4), whatever the remotes say.
    remotes = attempt[-n:] if n else []
    primary_failed = len(attempt) > n and attempt[0].get("result") not in PASS
    passes = [p for p in remotes if p.get("result") in PASS]
    rirs = {p.get("rir") for p in passes}
    running = [p for p in remotes if kind_of(p) == "cancelled"]
    running_rirs = {p.get("rir") for p in running}
    rir_rule = n > 2
    met = len(passes) >= q and (not rir_rule or len(rirs) >= 2)
    reachable = len(passes) + len(running) >= q and (not rir_rule or len(rirs | running_rirs) >= 2)
    bad = []
    counted = int(str(unit["quorum_result"]).split("/")[0])
    if counted != len(passes):
        bad.append(f"quorum_result {unit['quorum_result']} but {len(passes)} passes in the record")
    if unit["is_valid"] and not met:
        bad.append(f"VALID without quorum: {len(passes)} passes (need {q}), RIRs {sorted(rirs)}")
    if not unit["is_valid"] and met and not primary_failed:
        bad.append(f"invalid although the quorum was met: {len(passes)} passes (need {q}), RIRs {sorted(rirs)}")
    if not unit["is_valid"] and reachable and not primary_failed and unit["decided_after_ms"] < 29000:
        bad.append(f"invalid while the quorum was still reachable: {len(passes)} passes + {len(running)} running")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attacked", default="attack.test", help="the name every decision about must be invalid")
    ap.add_argument("--freeze", nargs=2, type=int, metavar=("FROM_MS", "UNTIL_MS"),
                    help="when the resolver was starved (unix ms), to place each invalid decision")
    ap.add_argument("--show", type=int, default=3, help="print this many invalid decisions in full")
    ap.add_argument("log")
    a = ap.parse_args()

    totals = collections.Counter()
    violations = []
    signatures = collections.Counter()
    per_perspective = collections.Counter()
    received_rel = []
    timeline = collections.defaultdict(lambda: [0, 0, 0])  # by received time (0.5 s bins): valid, invalid, max ms
    decided_ms = []
    shown = 0
    attacked_valid = 0
    for r in records(a.log):
        units = r.get("results", [])
        name = units[0]["target"] if units else "?"
        attacked = name == a.attacked
        if a.freeze and not attacked:
            slot = timeline[int((r["received_unix_ms"] - a.freeze[0]) // 500)]
            slot[0 if r["is_valid"] else 1] += 1
            slot[2] = max(slot[2], r["decided_unix_ms"] - r["received_unix_ms"])
        totals[(name, "valid" if r["is_valid"] else "invalid")] += 1
        for u in units:
            for v in check_unit(u):
                violations.append(f"{r['trace_identifier']} {u['target']} {u['check']}: {v}")
        if attacked:
            attacked_valid += 1 if r["is_valid"] else 0
            continue
        if r["is_valid"]:
            continue
        for u in units:
            if u["is_valid"]:
                continue
            attempt = u["attempts"][-1]
            kinds = collections.Counter(kind_of(p) for p in attempt if kind_of(p) != "pass")
            sig = ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items()))
            signatures[f"{u['check']}/{u.get('method', 'caa')}: passes {u['quorum_result']} (need "
                       f"{u['quorum_count']}); {sig}"] += 1
            for p in attempt:
                if kind_of(p) != "pass":
                    errors = p.get("errors") or [{}]
                    per_perspective[(p["perspective"], kind_of(p))] += 1
            decided_ms.append(u["decided_after_ms"])
        if a.freeze:
            received_rel.append((r["received_unix_ms"] - a.freeze[0]) / 1000.0)
        if shown < a.show:
            shown += 1
            print(f"classify: invalid {r['check_type']} {name} trace {r['trace_identifier']}, received "
                  + (f"{(r['received_unix_ms'] - a.freeze[0]) / 1000.0:+.2f} s from the freeze"
                     if a.freeze else str(r["received_unix_ms"])))
            for u in units:
                print(f"    {u['check']}/{u.get('method', 'caa')}: {'valid' if u['is_valid'] else 'invalid'} "
                      f"{u['quorum_result']} need {u['quorum_count']}, decided after {u['decided_after_ms']:.0f} ms")
                for p in u["attempts"][-1]:
                    err = "; ".join(f"{e.get('type')}: {e.get('message', '')[:70]}" for e in p.get("errors", []))
                    print(f"      {p['perspective']:<13} {p['rir']:<6} {p['result']:<14} "
                          f"{p.get('total_us', 0) / 1000:8.0f} ms  {err}")

    for (name, verdict), count in sorted(totals.items()):
        print(f"classify: {name}: {count} {verdict}")
    if signatures:
        print("classify: invalid units by how their perspectives did not corroborate:")
        for sig, count in signatures.most_common():
            print(f"  {count:6d}  {sig}")
        print("classify: non-corroborations of the invalid units, by perspective and error type:")
        for (code, kind), count in sorted(per_perspective.items()):
            print(f"  {count:6d}  {code:<13} {kind}")
        decided_ms.sort()
        print(f"classify: invalid units decided after {decided_ms[0]:.0f}-{decided_ms[-1]:.0f} ms "
              f"(median {decided_ms[len(decided_ms) // 2]:.0f})")
    if received_rel:
        print(f"classify: invalid decisions received {min(received_rel):+.2f} .. {max(received_rel):+.2f} s from "
              f"the start of the freeze ({(a.freeze[1] - a.freeze[0]) / 1000.0:.1f} s long)")
    if any(v[1] or v[2] > 1000 for v in timeline.values()):
        print("classify: decisions by when they were received (s from the start of the freeze): valid, invalid, "
              "slowest ms")
        first = min(k for k, v in timeline.items() if v[1] or v[2] > 1000)
        last = max(k for k, v in timeline.items() if v[1] or v[2] > 1000)
        for k in range(first - 1, last + 2):
            v = timeline.get(k, [0, 0, 0])
            print(f"  {k / 2:+6.1f} {v[0]:6d} {v[1]:6d} {v[2]:8d}")
    print(f"classify: quorum arithmetic violations: {len(violations)}")
    for v in violations[:20]:
        print(f"  {v}")
    if attacked_valid:
        print(f"classify: {attacked_valid} VALID decisions about {a.attacked}")
    return 0 if not violations and not attacked_valid else 1


if __name__ == "__main__":
    sys.exit(main())
