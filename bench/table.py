"""Print the README's table of the latest benchmark figures from bench/results/*.json.

    python bench/table.py [bench/results/2026-11-28-sqlite.json ...]   (default: the newest file per database)
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def latest() -> list[str]:
    files = []
    for db in ("sqlite", "postgresql"):
        found = sorted(glob.glob(os.path.join(HERE, "results", f"*-{db}.json")))
        if found:
            files.append(found[-1])
    return files


def mark(ratio: float, bar: float) -> str:
    return f"{ratio:.2f}×" + ("" if ratio <= bar else " ✗")


def rows(report: dict) -> list[str]:
    out = []
    db = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[report["db"]]
    for size in report["sizes"]:
        label = f"{db} {size['size']} ({size['units']:,} units)"
        r, s, w = size["results"], size["subsidy"], size["workbook"]
        line = (f"| {label} | {r['s']:.2f} s / {r['floor_s']:.2f} s: {mark(r['ratio'], r['bar'])} "
                f"| {s['s']:.2f} s / {s['floor_s']:.2f} s: {mark(s['ratio'], s['bar'])}, {s['peak_mb']:.0f} MB "
                f"| {w['s']:.2f} s / {w['floor_s']:.2f} s: {mark(w['ratio'], w['bar'])} ")
        http = size.get("http")
        if http:
            h = http["healthz"]["p50_ms"]
            for path, bar in (("scoring", 8), ("autosave", 5), ("results", 8)):
                p = http[path]
                line += (f"| {p['p50_ms']:.1f} / {p['p95_ms']:.1f} / {p['p99_ms']:.1f} ms, "
                         f"{mark(p['p50_ms'] / h, bar)} ")
            line += f"| {h:.1f} ms "
        out.append(line + "|")
    growth = report.get("growth") or {}
    if growth:
        out.append(f"| {db}: growth of time per unit, 1/16 → full (largest rise between two sizes; floor's) | "
                   + " | ".join(mark(growth[k]["end_to_end"], 1.5) + f" ({growth[k]['largest_rise']:.2f}×; "
                                f"{growth[k]['floor_end_to_end']:.2f}×)" for k in ("results", "subsidy", "workbook"))
                   + " | | | | |")
    return out


def load_rows(report: dict) -> list[str]:
    out = []
    db = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[report["db"]]
    for size in report["sizes"]:
        load = (size.get("http") or {}).get("load")
        if not load:
            continue
        line = f"| {db} {size['size']} | {load['concurrency']} "
        for path in ("scoring", "autosave", "results"):
            p = load[path]
            line += f"| {p['p50_ms']:.1f} / {p['p95_ms']:.1f} / {p['p99_ms']:.1f} ms, {p['ratio_p50']:.2f}× "
        out.append(line + f"| {load['healthz']['p50_ms']:.1f} ms |")
    return out


def _timed(http: dict, path: str) -> str:
    return f"{http[path]['p50_ms']:.1f} ms, {http[path]['ratio_p50']:.2f}×"


def _over(http: dict, path: str, probe: str) -> str:
    """A path's p50 against its probe's."""
    floor = http[probe]["p50_ms"]
    return f"{http[path]['p50_ms'] / floor:.2f}×" if floor else "—"


def probe_rows(report: dict) -> list[str]:
    """The least an authenticated request costs (bench/probe.py) beside the paths that do more."""
    out = []
    db = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[report["db"]]
    for size in report["sizes"]:
        http = size.get("http") or {}
        if "probe_read" not in http:
            continue
        cells = [_timed(http, "probe_read"), _timed(http, "scoring"), _over(http, "scoring", "probe_read"),
                 _timed(http, "probe_write"), _timed(http, "autosave"), _over(http, "autosave", "probe_write")]
        out.append(f"| {db} {size['size']} | " + " | ".join(cells) + f" | {http['healthz']['p50_ms']:.1f} ms |")
    return out


def main():
    files = sys.argv[1:] or latest()
    reports = [json.load(open(f, encoding="utf-8")) for f in files]
    print("Times: medians of the runs (path / floor); ratios: the median of the pairs' ratios (bench/run.py).\n")
    print("| database, size | round results vs SQL scan (≤ 2×) | eligibility sheet vs same cells (≤ 1.5×), peak "
          "| district workbook vs same cells (≤ 1.5×) | scoring page p50/p95/p99 (1 client), p50 vs healthz (≤ 8×) "
          "| autosave (≤ 5×) | results page (≤ 8×) | healthz p50 |")
    print("|---|---|---|---|---|---|---|---|")
    for report in reports:
        for line in rows(report):
            print(line)
    loaded = [line for report in reports for line in load_rows(report)]
    if loaded:
        print("\nUnder load (one client per core; reported, not checked): p50 / p95 / p99, p50 vs healthz\n")
        print("| database, size | clients | scoring page | autosave | results page | healthz p50 |")
        print("|---|---|---|---|---|---|")
        for line in loaded:
            print(line)
    probes = [line for report in reports for line in probe_rows(report)]
    if probes:
        print("\nThe least an authenticated request costs (bench/probe.py, 1 client; reported, not checked): p50, "
              "p50 vs healthz; each path's p50 against its probe's\n")
        print("| database, size | one SELECT (probe) | scoring page | scoring page vs the probe | one UPDATE + COMMIT "
              "(probe) | autosave | autosave vs the probe | healthz p50 |")
        print("|---|---|---|---|---|---|---|---|")
        for line in probes:
            print(line)
    for report in reports:
        print(f"\n{report['db']}: {report['date']}, {report.get('cpu', 'CPU not recorded')}, {report['cores']} cores, "
              f"{report['memory_gb']} GiB, Python "
              f"{report['python']}, median of {report['runs']} pairs, {report['seconds']} s; "
              f"bars missed: {', '.join(report['misses']) or 'none'}")


if __name__ == "__main__":
    main()
