#!/usr/bin/env python3
"""report.py - medians, ratios and targets for tests/bench/run.sh.

    report.py RESULTDIR STEM

reads STEM.samples.csv (workload,mode,run,seconds), STEM.rss.csv
(workload,daemon,vmhwm_kib) and STEM.machine.json, writes STEM.summary.csv,
STEM.json and STEM.txt, and prints the table.
"""
import csv
import json
import os
import statistics
import sys

MODES = ("native", "wardfs", "fuse-overlayfs")
RSS_LIMIT_KIB = 64 * 1024

# workload -> (label, wardfs/native limit or None); order of the table
WORKLOADS = [
    ("gitstatus", "git status (warm)", 1.3),
    ("gitstatus-fresh", "git status, 1st in fresh session", None),
    ("gitdiff", "git diff --stat HEAD (50 edited)", None),
    ("find", "find . -type f | wc -l", 1.3),
    ("rg", "rg -c 'static inline'", 1.3),
    ("extract", "tar -x (create-heavy)", 2.0),
    ("rm", "rm -rf of it (delete-heavy)", 2.0),
    ("build", "C build, make -j2", 1.1),
    ("append", "copy-up: append to files", None),
    ("rewrite", "copy-up: rewrite 1 MiB in big file", None),
    ("seqread-cold", "sequential read, cold", 1.2),
    ("seqread-warm", "sequential read, warm", 1.2),
    ("seqwrite", "sequential write", None),
    ("stat", "lstat of paths", None),
    ("ls-lR", "ls -lR", None),
    ("chmod", "chmod of files", None),
]


# Workloads measured in another one's sessions: whose daemon RSS they show.
RSS_OF = {"gitstatus-fresh": "gitdiff", "rm": "extract", "append": "copyup",
          "rewrite": "copyup", "seqread-cold": "seqread",
          "seqread-warm": "seqread"}


def main(resdir, stem):
    base = os.path.join(resdir, stem)
    with open(base + ".machine.json") as f:
        machine = json.load(f)
    samples = {}
    with open(base + ".samples.csv") as f:
        for row in csv.DictReader(f):
            key = (row["workload"], row["mode"])
            samples.setdefault(key, []).append(float(row["seconds"]))
    rss = {}
    if os.path.exists(base + ".rss.csv"):
        with open(base + ".rss.csv") as f:
            for row in csv.DictReader(f):
                key = (row["workload"], row["daemon"])
                rss[key] = max(rss.get(key, 0), int(row["vmhwm_kib"]))

    load = []  # (when, 1-, 5-, 15-minute load average)
    if os.path.exists(base + ".load"):
        with open(base + ".load") as f:
            for line in f:
                w = line.split()
                if len(w) == 4:
                    load.append((w[0], float(w[1]), float(w[2]),
                                 float(w[3])))

    rows, targets = [], []
    for wl, label, limit in WORKLOADS:
        med = {}
        for m in MODES:
            s = samples.get((wl, m))
            med[m] = statistics.median(s) if s else None
        if all(v is None for v in med.values()):
            continue
        label = machine.get("labels", {}).get(wl, label)
        n, w, o = med["native"], med["wardfs"], med["fuse-overlayfs"]
        wn = w / n if w is not None and n else None
        wo = w / o if w is not None and o else None
        row = {
            "workload": wl, "label": label,
            "runs": max(len(samples.get((wl, m), [])) for m in MODES),
            "native_s": n, "wardfs_s": w, "fuse_overlayfs_s": o,
            "wardfs_over_native": wn, "wardfs_over_fuse_overlayfs": wo,
            "wardfs_rss_kib": rss.get((RSS_OF.get(wl, wl), "wardfs")),
            "fuse_overlayfs_rss_kib": rss.get((RSS_OF.get(wl, wl),
                                               "fuse-overlayfs")),
            "samples": {m: samples.get((wl, m), []) for m in MODES},
        }
        rows.append(row)
        if wo is not None:
            targets.append({"target": "%s: wardfs faster than "
                            "fuse-overlayfs" % wl, "value": wo,
                            "limit": 1.0, "met": wo < 1.0})
        if limit is not None and wn is not None:
            targets.append({"target": "%s: wardfs/native <= %.1f" %
                            (wl, limit), "value": wn, "limit": limit,
                            "met": wn <= limit})
    peak = max((v for (wl, d), v in rss.items() if d == "wardfs"),
               default=None)
    if peak is not None:
        targets.append({"target": "wardfs daemon peak RSS <= 64 MiB",
                        "value": peak / 1024.0, "limit": 64,
                        "met": peak <= RSS_LIMIT_KIB})

    def fmt(v, spec="%.3f"):
        return "-" if v is None else spec % v

    lines = []
    lines.append("wardfs bench %s (%s tree, %s)" %
                 (machine.get("date"), machine.get("tree"),
                  machine.get("wardfs_version")))
    lines.append("machine: %s CPUs, %s MiB RAM, kernel %s, %s on %s" %
                 (machine.get("nproc"), machine.get("mem_mib"),
                  machine.get("kernel"), machine.get("disk_fs"),
                  machine.get("disk_dev")))
    if load:
        lines.append("load average: %s" % ", ".join(
            "%s %.1f/%.1f/%.1f" % l for l in load))
        if max(l[2] for l in load) > machine.get("nproc", 1) / 2.0:
            lines.append("warning: the machine was busy with other work; "
                         "the numbers are noisy")
    lines.append("medians of %s runs, seconds (ratios < 1: wardfs faster)" %
                 machine.get("runs"))
    lines.append("")
    head = "%-36s %9s %9s %9s %8s %8s %9s %9s" % (
        "workload", "native", "wardfs", "fuse-ovl", "w/nat", "w/fov",
        "w RSS", "fov RSS")
    lines.append(head)
    lines.append("-" * len(head))
    for r in rows:
        lines.append("%-36s %9s %9s %9s %8s %8s %9s %9s" % (
            r["label"][:36], fmt(r["native_s"]), fmt(r["wardfs_s"]),
            fmt(r["fuse_overlayfs_s"]), fmt(r["wardfs_over_native"], "%.2f"),
            fmt(r["wardfs_over_fuse_overlayfs"], "%.2f"),
            fmt(r["wardfs_rss_kib"] and r["wardfs_rss_kib"] / 1024.0,
                "%.1fM"),
            fmt(r["fuse_overlayfs_rss_kib"] and
                r["fuse_overlayfs_rss_kib"] / 1024.0, "%.1fM")))
    lines.append("")
    lines.append("wardfs daemon peak RSS (VmHWM): %s MiB" %
                 fmt(peak and peak / 1024.0, "%.1f"))
    lines.append("")
    lines.append("targets:")
    for t in targets:
        lines.append("  %-4s %-52s %.2f" % ("ok" if t["met"] else "MISS",
                                            t["target"], t["value"]))
    met = sum(t["met"] for t in targets)
    lines.append("%d of %d targets met" % (met, len(targets)))
    text = "\n".join(lines) + "\n"

    with open(base + ".txt", "w") as f:
        f.write(text)
    with open(base + ".json", "w") as f:
        json.dump({"machine": machine, "load_average": load,
                   "workloads": rows,
                   "wardfs_peak_rss_kib": peak, "targets": targets},
                  f, indent=1)
        f.write("\n")
    cols = ["workload", "label", "runs", "native_s", "wardfs_s",
            "fuse_overlayfs_s", "wardfs_over_native",
            "wardfs_over_fuse_overlayfs", "wardfs_rss_kib",
            "fuse_overlayfs_rss_kib"]
    with open(base + ".summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r[c] is None else
                        ("%.4f" % r[c] if isinstance(r[c], float) else r[c])
                        for c in cols])
    sys.stdout.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
