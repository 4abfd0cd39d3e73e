#!/usr/bin/env python
"""Where does a training step of the full model spend time that its parts timed alone do not?

Profiles one training step of EmoSphere-SER (WavLM-large shape, batch 4 x 4 s, as in run_all.py)
and the same step cut at module boundaries, twice each, interleaved, and prints their wall times,
the summed self-CPU time of all operators, and the operators whose self time differs most. If the
full step's extra time sits in no operator (the per-operator totals match while the wall times
differ by as much between two runs of the same step), the composition overhead is noise.

    python bench/profile_training_step.py [--shape WavLM-base] [--top 15]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from run_all import SHAPES, Bench, build_full, training_steps, uneven_batch


def profile_once(fn) -> tuple[float, dict[str, tuple[int, float]]]:
    """Wall seconds and {operator: (calls, self CPU ms)} of one call."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        fn()
        wall = time.perf_counter() - start
    return wall, {event.key: (event.count, event.self_cpu_time_total / 1e3) for event in prof.key_averages()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", default="WavLM-large", choices=sorted(SHAPES))
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    bench = Bench("cpu", torch.float32, repeats=1)
    values, mask = uneven_batch(args.batch, args.seconds, bench.device)
    steps = training_steps(bench, build_full(args.shape, bench.device).train(), values, mask)
    candidates = {"full": steps["step"], "parts": steps["parts"]}
    for fn in candidates.values():
        fn()
    runs = defaultdict(list)
    for _ in range(2):
        for name, fn in candidates.items():
            runs[name].append(profile_once(fn))
    print(f"training step {args.shape}, batch {args.batch} x {args.seconds:g} s, {torch.get_num_threads()} threads")
    for name, results in runs.items():
        for index, (wall, ops) in enumerate(results):
            calls, self_ms = sum(c for c, _ in ops.values()), sum(ms for _, ms in ops.values())
            print(f"  {name} run {index + 1}: wall {wall * 1e3:8.1f} ms, operators' self CPU {self_ms:8.1f} ms in {calls} calls")
    (_, full_ops), (_, parts_ops) = (min(runs[name], key=lambda run: run[0]) for name in ("full", "parts"))
    rows = []
    for key in full_ops.keys() | parts_ops.keys():
        (full_calls, full_ms), (parts_calls, parts_ms) = full_ops.get(key, (0, 0.0)), parts_ops.get(key, (0, 0.0))
        rows.append((full_ms - parts_ms, key, full_calls, full_ms, parts_calls, parts_ms))
    rows.sort(key=lambda row: -abs(row[0]))
    print("\noperators by |self CPU difference| (fastest run of each): full - parts")
    print(f"  {'operator':<44} {'diff ms':>9} {'full calls':>10} {'full ms':>9} {'parts calls':>11} {'parts ms':>9}")
    for diff, key, full_calls, full_ms, parts_calls, parts_ms in rows[: args.top]:
        print(f"  {key[:44]:<44} {diff:9.1f} {full_calls:10d} {full_ms:9.1f} {parts_calls:11d} {parts_ms:9.1f}")


if __name__ == "__main__":
    main()
