"""The descriptor limit a crawl needs (issue 16 item 1): raised at the start of a run when it is too low.

A crawl of N sites in one process holds about `FD_BASE + FD_PER_SITE * N` descriptors at its peak (measured on
the demo portal and on loopback sites, bench/README.md "Descriptors per site"). When the soft RLIMIT_NOFILE is below
that, it is raised to the hard limit (any process may do so) and one line says so; when even the hard limit is too
low, the line says how many sites fit, and a site that runs out is reported as an error (crawler/resources.py).
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

# Measured (bench/crawl/descriptors.py, 4 and 12 loopback sites): 27 fixed and 1.0 per site at the peak (its socket;
# the database connection and the WARC writer are shared, job state is written at close). The estimate leaves room
# for a site's connections to other hosts (attachments on a CDN), for writing its job state and a browser render.
FD_BASE = 48  # the process without sites: logging, the lock, the reactor, the extraction pool's pipes
FD_PER_SITE = 6


def needed(sites: int) -> int:
    """Descriptors a run of `sites` sites needs at its peak (with headroom: the estimate is a measured peak)."""
    return FD_BASE + FD_PER_SITE * max(sites, 0)


def fitting(limit: int) -> int:
    """How many sites fit in `limit` descriptors."""
    return max(0, (limit - FD_BASE) // FD_PER_SITE)


@dataclass(frozen=True)
class LimitChange:
    soft: int  # before
    hard: int
    now: int  # the soft limit after
    need: int

    def message(self, sites: int) -> str | None:
        """One line for the user when the limit was raised or is too low; None when it was enough."""
        if self.soft >= self.need:
            return None
        if self.now >= self.need:
            return (f"descriptor limit raised from {self.soft} to {self.now} (soft to hard limit): {sites} site(s) "
                    f"need about {self.need}")
        raised = f"raised from {self.soft} to {self.now}, the hard limit" if self.now > self.soft else \
            f"{self.now}, the hard limit"
        return (f"descriptor limit {raised}: {sites} site(s) need about {self.need}, about {fitting(self.now)} fit; "
                f"sites that run out are reported as errors (crawl fewer at once: --sites-in-flight {max(fitting(self.now), 1)}, "
                "or raise the hard limit: ulimit -Hn, LimitNOFILE=)")


def _unlimited(value: int) -> int:
    return 1 << 20 if value == resource.RLIM_INFINITY else value


def ensure_descriptors(sites: int) -> LimitChange:
    """Raise the soft RLIMIT_NOFILE to the hard limit when it is below what `sites` sites need."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = needed(sites)
    now = soft
    if _unlimited(soft) < need and _unlimited(hard) > _unlimited(soft):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            now = hard
        except (ValueError, OSError):  # a hard limit above the kernel's nr_open: go as high as allowed
            try:
                with open("/proc/sys/fs/nr_open") as f:
                    ceiling = min(_unlimited(hard), int(f.read()))
                resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
                now = ceiling
            except (ValueError, OSError):
                pass
    return LimitChange(_unlimited(soft), _unlimited(hard), _unlimited(now), need)
