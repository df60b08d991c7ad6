"""wrk driven by a Lua script that cycles through a list of paths and reports, from its own
``done()``, what wrk's text output lacks: p95 and p99, and every non-2xx status
(``response()``)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# wrk leaves a response slower than its --timeout out of the latency histogram (and counts a
# timeout error): longer than the servers' own waits for a database connection (10 s), so a
# stalled request keeps its real latency, or arrives as a 503 and counts as non-2xx.
TIMEOUT_S = 30

# One line from done(): requests, duration µs, p50, p95, p99 µs, non-2xx, socket errors
# (connect, read, write, timeout; wrk's own status count is left out: non-2xx has it).
RESULT = re.compile(r"^RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)$", re.M)

LUA = """\
local paths = {
%s
}
local n = #paths
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set('offset', #threads * 7919)
end
init = function(args) i = offset; bad = 0 end
request = function()
  i = i %% n + 1
  return wrk.format('GET', paths[i])
end
response = function(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get('bad') end
  local e = summary.errors
  io.write(string.format('RESULT %%d %%d %%.1f %%.1f %%.1f %%d %%d\\n', summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99), b,
    e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    recovery_s: float = 0.0  # after the run, until the server answered promptly again

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def lua_script(paths: list[str], path: Path) -> Path:
    """A script that walks ``paths`` in order (each thread from its own offset), round and
    round, so every tile of the list is asked for about equally often."""
    if any('"' in p or "\\" in p for p in paths):
        raise ValueError("paths must not contain quotes or backslashes")
    path.write_text(LUA % ",\n".join(f'  "{p}"' for p in paths))
    return path


def run(binary: str, base: str, script: Path, connections: int, seconds: int,
        headers: tuple[str, ...] = ()) -> Run:
    """``headers`` ("Name: value") go with every request (an API key)."""
    cmd = [binary, f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
           "--timeout", f"{TIMEOUT_S}s", *(a for h in headers for a in ("-H", h)),
           "-s", str(script), base + "/"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    m = RESULT.search(out)
    if not m:
        sys.exit(f"cannot read the RESULT line from wrk's output:\n{out}")
    requests, duration_us, p50, p95, p99, bad, sock = m.groups()
    return Run(int(requests), int(duration_us) / 1e6, float(p50) / 1000, float(p95) / 1000,
               float(p99) / 1000, int(bad), int(sock))
