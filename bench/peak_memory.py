"""Peak resident memory of the current process, for the benchmarks' fresh-process memory probes."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB. Linux's ``ru_maxrss`` survives ``exec`` (a child started
    from a large parent reports the parent's peak), so read the high-water mark of this address space,
    ``VmHWM``, instead; ``ru_maxrss`` only where /proc is missing."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
