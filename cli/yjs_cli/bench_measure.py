"""What the benchmark reads off the machine: its description, CPU time and peak memory of
processes from /proc, the services' Prometheus counters, percentiles."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

import requests

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --- the machine ------------------------------------------------------------------------------

def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def rabbitmq_version() -> str:
    try:
        result = subprocess.run(["rabbitmqctl", "version"], capture_output=True, text=True, timeout=30)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        return lines[-1].strip() if result.returncode == 0 and lines else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown (no rabbitmqctl)"


def postgres_version(url: str | None) -> str:
    if not url:
        return "not used"
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
            settings = {name: connection.execute(text(f"SHOW {name}")).scalar_one()
                        for name in ("synchronous_commit", "fsync", "shared_buffers")}
        return f"{version} ({', '.join(f'{k}={v}' for k, v in settings.items())})"
    except Exception as error:  # noqa: BLE001 - a description must not fail the run
        return f"unknown ({type(error).__name__})"
    finally:
        engine.dispose()


def machine_description(postgres_url: str | None) -> dict[str, str]:
    memory_kb = _first("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024 / 1024:.1f} GiB" if memory_kb else "unknown"
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 0
    return {
        "CPU": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "memory": memory,
        "kernel": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "RabbitMQ": rabbitmq_version(),
        "PostgreSQL": postgres_version(postgres_url),
        "load average before the run": load,
    }


# --- processes --------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                found.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    except OSError:
        pass
    return found


def descendants(pid: int) -> list[int]:
    """pid and every process below it."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(_children(current))
    return pids


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()  # from field 3 of proc(5) on: the command name may contain spaces


def cpu_times(pid: int, reaped: bool = False) -> tuple[float, float] | None:
    """(user, system) CPU seconds of one process (all its threads), or None once it is gone.
    `reaped`: with its children that ended and were waited for (a server's short-lived workers)."""
    fields = _stat(pid)
    if fields is None:
        return None
    user, system = int(fields[11]), int(fields[12])  # utime, stime: fields 14, 15
    if reaped:
        user, system = user + int(fields[13]), system + int(fields[14])  # cutime, cstime
    return user / CLOCK_TICKS, system / CLOCK_TICKS


def parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process, or None once it is gone."""
    times = cpu_times(pid)
    return None if times is None else times[0] + times[1]


def memory_kib(pid: int) -> tuple[int, int]:
    """(peak RSS = VmHWM, current RSS = VmRSS) in KiB; zeros once the process is gone."""
    peak = _first(f"/proc/{pid}/status", "VmHWM")
    rss = _first(f"/proc/{pid}/status", "VmRSS")
    return (int(peak.split()[0]) if peak else 0, int(rss.split()[0]) if rss else 0)


def pids_by_name(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) summed over every CPU since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def all_processes() -> dict[int, float]:
    """CPU seconds of every process on the machine."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            seconds = cpu_seconds(int(entry.name))
            if seconds is not None:
                found[int(entry.name)] = seconds
    return found


def command_of(pid: int, width: int = 70) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").strip()
        return (command or Path(f"/proc/{pid}/comm").read_text().strip())[:width]
    except OSError:
        return f"pid {pid}, since ended"


@dataclass
class ProcessUsage:
    name: str
    pids: list[int]
    cpu: float  # seconds in the window
    peak_rss_kib: int  # VmHWM: the process's peak over its whole life
    note: str = ""
    system_cpu: float = 0.0  # of cpu, the seconds in the kernel (system calls)


class CpuWindow:
    """CPU seconds of named groups of processes between `start()` and `stop()`. A process that
    appears during the window counts from zero (all its life falls in the window)."""

    def __init__(self, reaped: set[int] = frozenset()):
        self.reaped = reaped  # counted with their children that end in the window
        self.before: dict[int, tuple[float, float]] = {}
        self.after: dict[int, tuple[float, float]] = {}
        self.busy_before = self.busy_after = (0.0, 0.0)
        self.everyone_before: dict[int, float] = {}
        self.everyone_after: dict[int, float] = {}

    def start(self, pids: list[int]) -> None:
        self.busy_before = machine_busy()
        self.everyone_before = all_processes()
        self.before = {pid: cpu_times(pid, pid in self.reaped) or (0.0, 0.0) for pid in pids}

    def stop(self, pids: list[int]) -> None:
        self.after = {pid: cpu_times(pid, pid in self.reaped) or self.before.get(pid, (0.0, 0.0)) for pid in pids}
        self.everyone_after = all_processes()
        self.busy_after = machine_busy()

    def busiest_others(self, ours: set[int], count: int = 4) -> list[tuple[str, float]]:
        """The processes not ours that used the most CPU in the window: (command, seconds)."""
        used = {pid: seconds - self.everyone_before.get(pid, 0.0) for pid, seconds in self.everyone_after.items()
                if pid not in ours}
        top = sorted(used.items(), key=lambda item: -item[1])[:count]
        return [(command_of(pid), seconds) for pid, seconds in top if seconds >= 0.05]

    def used(self, pids: list[int], part: int | None = None) -> float:
        """CPU seconds of these processes in the window: user + system, or part 0 (user) or 1 (system)."""
        total = 0.0
        for pid in pids:
            after, before = self.after.get(pid, (0.0, 0.0)), self.before.get(pid, (0.0, 0.0))
            parts = (0, 1) if part is None else (part,)
            total += max(sum(after[k] - before[k] for k in parts), 0.0)
        return total

    def machine(self) -> tuple[float, float]:
        """(busy CPU seconds, available CPU seconds) of the whole machine in the window."""
        return (self.busy_after[0] - self.busy_before[0], self.busy_after[1] - self.busy_before[1])


# --- the services' counters -------------------------------------------------------------------

def scrape(port: int, timeout: float = 5.0) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one /metrics page (empty if unreachable)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        page = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout).text
    except requests.RequestException:
        return {}
    samples = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name.startswith("yjs_"):
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def counter_delta(before: dict, after: dict, name: str, **match: str) -> dict[tuple, float]:
    """The growth of every labelled sample of a counter between two scrapes."""
    growth = {}
    for (sample, labels), value in after.items():
        if sample != name or any(dict(labels).get(k) != v for k, v in match.items()):
            continue
        delta = value - before.get((sample, labels), 0.0)
        if delta:
            growth[labels] = delta
    return growth


# --- numbers ----------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
