"""Helpers shared by the benchmarks: timing, waiting for the kernel to settle, the machine."""

import os
import platform
import subprocess
import time


def cpu_busy_fraction(interval=0.5):
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t1, i1 = read()
    time.sleep(interval)
    t2, i2 = read()
    return 1.0 - (i2 - i1) / max(1, t2 - t1)


def wait_quiet(limit=120.0, threshold=0.08):
    """Namespace deletion finishes asynchronously in the kernel (cleanup_net): wait until
    the CPUs are idle again so that one run does not pay for the previous one. Returns the
    seconds waited."""
    t = time.monotonic()
    while time.monotonic() - t < limit and cpu_busy_fraction() > threshold:
        pass
    return time.monotonic() - t


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                         "")
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    nft = subprocess.run(["nft", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} CPUs ({model}), {mem:.0f} GiB, kernel {platform.release()}, "
            f"{nft}, Python {platform.python_version()}")


def peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
