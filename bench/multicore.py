#!/usr/bin/env python3
"""fuka, wrk and bombardier on one many-core machine, side by side in one run.

Layout on N cores: nginx's workers pinned to the upper half (N/2 workers), each generator pinned to
1, 2, 4, ... cores of the lower half (saturation, 64 connections per core), then an open-model run
(RATE/s) and a many-connections run (MANY) on the largest generator set. On 2 cores: nginx on CPU 1,
generators on CPU 0. CPU seconds and peak RSS come from each generator process's own rusage
(wait4). The open-model run also gives fuka's first-second p99 against the steady-state p99
(seconds 2..N): the pre-connect check. Loopback only; Python 3 stdlib only.

Binaries: fuka is built from this checkout unless FUKA_BIN is set; wrk, bombardier and nginx come
from BIN_DIR (if set), then PATH, then /tmp/peers/bin (see ../shared/bench/INSTALL-PEERS.md). A
tool that is missing is skipped and said so. LD_LIBRARY_PATH=$BIN_DIR/../lib if that exists (a copy
of the binaries carried to another machine).

Env: DUR=8  REPS=2  RATE=50000 (10000 on <= 4 cores)  MANY=10000 (2000 on <= 4 cores)
     GEN_SETS="0 0-3 0-7"  TARGET_CPUS=8-15  NGINX_WORKERS=8   (defaults from the core count)
     TOOLS="wrk bombardier fuka"  MODES="sat rate conns"  PORT=18990  OUT=/tmp/fuka-multicore

  python3 bench/multicore.py                 # whole table (16 cores: ~4 minutes)
  DUR=5 REPS=1 python3 bench/multicore.py    # smoke run
"""
import json, os, re, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NCPU = len(os.sched_getaffinity(0))
CPUS = sorted(os.sched_getaffinity(0))
OUT = os.environ.get("OUT") or "/tmp/fuka-multicore"
RAW = os.path.join(OUT, "raw")
DUR = int(os.environ.get("DUR", "8"))
REPS = int(os.environ.get("REPS", "2"))
SMALL = NCPU <= 4
RATE = int(os.environ.get("RATE", "10000" if SMALL else "50000"))
MANY = int(os.environ.get("MANY", "2000" if SMALL else "10000"))
TOOLS = os.environ.get("TOOLS", "wrk bombardier fuka").split()
MODES = os.environ.get("MODES", "sat rate conns").split()
PORT = int(os.environ.get("PORT", "18990"))
URL = "http://127.0.0.1:%d/" % PORT


def default_layout():
    """Generator sets 1, 2, 4, ... cores of the lower half; nginx on the upper half."""
    half = max(1, len(CPUS) // 2)
    gen_cpus, target = CPUS[:half], CPUS[half:] or CPUS[:1]
    sets, n = [], 1
    while n <= len(gen_cpus):
        sets.append(span(gen_cpus[:n]))
        n *= 2
    if span(gen_cpus) not in sets:
        sets.append(span(gen_cpus))
    return sets, span(target), len(target)


def span(cpus):
    """A CPU list as taskset text: 0-3,8."""
    out, run = [], [cpus[0], cpus[0]]
    for c in cpus[1:]:
        if c == run[1] + 1:
            run[1] = c
        else:
            out.append(run)
            run = [c, c]
    out.append(run)
    return ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in out)


def cpuset(spec):
    s = set()
    for part in spec.split(","):
        a, _, b = part.partition("-")
        s.update(range(int(a), int(b or a) + 1))
    return s


SETS, TARGET, WORKERS = default_layout()
GEN_SETS = os.environ.get("GEN_SETS", " ".join(SETS)).split()
TARGET_CPUS = os.environ.get("TARGET_CPUS", TARGET)
WORKERS = int(os.environ.get("NGINX_WORKERS", str(WORKERS)))


def find(name):
    for d in filter(None, [os.environ.get("BIN_DIR")]):
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    p = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if p:
        return p
    p = "/tmp/peers/bin/" + name
    return p if os.access(p, os.X_OK) else None


def env():
    e = dict(os.environ)
    lib = os.path.join(os.environ.get("BIN_DIR", "/nonexistent"), "..", "lib")
    if os.path.isdir(lib):
        e["LD_LIBRARY_PATH"] = os.path.abspath(lib)
    return e


def build_fuka():
    if os.environ.get("FUKA_BIN"):
        return os.environ["FUKA_BIN"]
    out = os.path.join(tempfile.mkdtemp(), "fuka")
    subprocess.run(["go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/fuka"], cwd=ROOT, check=True,
                   env=dict(os.environ, CGO_ENABLED="0"))
    return out


def mask(cpus):
    return "".join("1" if i in cpus else "0" for i in reversed(range(max(cpus) + 1)))


def start_nginx(nginx):
    p = os.path.join(OUT, "nginx")
    os.makedirs(p + "/tmp", exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    conf = f"""{user}
worker_processes {WORKERS};
worker_cpu_affinity auto {mask(cpuset(TARGET_CPUS))};
worker_rlimit_nofile 200000;
pid nginx.pid;
error_log error.log warn;
daemon on;
events {{ worker_connections 50000; multi_accept on; use epoll; }}
http {{
  access_log off; server_tokens off; keepalive_requests 100000000; keepalive_timeout 75s;
  tcp_nodelay on; default_type text/plain;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  server {{ listen 127.0.0.1:{PORT} backlog=65535 reuseport; location / {{ return 200 "ok"; }} }}
}}
"""
    # worker_cpu_affinity wants one mask per worker, or "auto MASK".
    conf = conf.replace(f"worker_cpu_affinity auto {mask(cpuset(TARGET_CPUS))};",
                        f"worker_cpu_affinity auto {mask(cpuset(TARGET_CPUS))};")
    with open(p + "/nginx.conf", "w") as f:
        f.write(conf)
    r = subprocess.run([nginx, "-c", p + "/nginx.conf", "-p", p + "/", "-e", p + "/error.log"],
                       env=env(), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("nginx: " + r.stderr.strip()[:500])
    time.sleep(1)
    return p


def run(name, argv, cpus, timeout):
    """Run argv pinned to cpus; return (output, cpu_s, maxrss_mb, wall_s, rc)."""
    path = f"{RAW}/{name}.log"
    cs = cpuset(cpus)
    t0 = time.time()
    with open(path, "w") as log:
        p = subprocess.Popen(["timeout", "-s", "INT", str(timeout)] + argv, stdout=log, stderr=subprocess.STDOUT,
                             env=env(), preexec_fn=lambda: os.sched_setaffinity(0, cs))
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t0
    with open(path) as f:
        txt = f.read()
    return txt, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, wall, os.waitstatus_to_exitcode(status)


def parse(tool, txt):
    """requests, rps, p99_ms, errors, extra"""
    if tool == "wrk":
        req = re.search(r"(\d+) requests in", txt)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", txt)
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", txt)
        err = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", txt))
        non2 = re.search(r"Non-2xx or 3xx responses: (\d+)", txt)
        err += int(non2.group(1)) if non2 else 0
        p = None
        if p99:
            v, u = float(p99.group(1)), p99.group(2)
            p = v / 1000 if u == "us" else (v * 1000 if u == "s" else v)
        return (int(req.group(1)) if req else None, float(rps.group(1)) if rps else None, p, err, {})
    if tool == "bombardier":
        try:
            j = json.loads(txt[txt.find("{"):])["result"]
        except Exception:
            return (None, None, None, None, {})
        req = sum(j.get(k, 0) for k in ("req1xx", "req2xx", "req3xx", "req4xx", "req5xx", "others"))
        p99 = j.get("latency", {}).get("percentiles", {}).get("99")
        return (req, req / j["timeTakenSeconds"], p99 / 1000 if p99 else None,
                j.get("req4xx", 0) + j.get("req5xx", 0) + j.get("others", 0), {})
    if tool == "fuka":
        i = txt.find("{")
        try:
            j = json.JSONDecoder().raw_decode(txt[i:])[0]
        except Exception:
            return (None, None, None, None, {})
        extra = {}
        tl = [p for p in j.get("timeline", []) if p.get("span_s", 0) >= 0.999 and p.get("p99_ms") is not None]
        if len(tl) >= 3:
            steady = sorted(p["p99_ms"] for p in tl[1:])
            extra = dict(p99_first_s=tl[0]["p99_ms"], p99_steady=steady[len(steady) // 2],
                         connects=[p.get("connects") for p in j["timeline"]])
        if j.get("warmup"):
            extra["preconnected"] = j["warmup"]["opened"]
        return (j["requests"], j["rps"], j["latency"]["p99_ms"], j["failed"], extra)


def sat_cmd(tool, bins, conns, threads):
    if tool == "wrk":
        return [bins[tool], "-t%d" % threads, "-c%d" % conns, "-d%ds" % DUR, "--latency", URL]
    if tool == "bombardier":
        return [bins[tool], "-c", str(conns), "-d", "%ds" % DUR, "-l", "-o", "json", "-p", "r", URL]
    return [bins[tool], "attack", URL, "-c", str(conns), "-d", "%ds" % DUR, "-q", "-o", "json"]


def rate_cmd(tool, bins, conns):
    if tool == "bombardier":
        return [bins[tool], "-c", str(conns), "-d", "%ds" % DUR, "--rate", str(RATE), "-l", "-o", "json", "-p", "r", URL]
    if tool == "fuka":
        return [bins[tool], "attack", URL, "--rate", str(RATE), "-d", "%ds" % DUR, "-q", "-o", "json"]
    return None  # wrk has no open model


results = []


def record(mode, gen, tool, rep, argv, timeout):
    name = f"{mode}-{gen}-{tool}-{rep}"
    txt, cpu, rss, wall, rc = run(name, argv, gen, timeout)
    req, rps, p99, err, extra = parse(tool, txt)
    r = dict(mode=mode, gen=gen, tool=tool, rep=rep, rc=rc, requests=req, rps=rps, p99_ms=p99, errors=err,
             cpu_s=round(cpu, 3), rss_mb=round(rss, 1), wall_s=round(wall, 2),
             req_per_cpu_s=round(req / cpu) if req and cpu else None, **extra)
    results.append(r)
    print(json.dumps(r), flush=True)
    with open(OUT + "/results.jsonl", "a") as f:
        f.write(json.dumps(r) + "\n")
    time.sleep(1)


def main():
    os.makedirs(RAW, exist_ok=True)
    bins = {}
    for t in TOOLS:
        bins[t] = build_fuka() if t == "fuka" else find(t)
        if not bins[t]:
            print(f"{t}: not found (BIN_DIR, PATH, /tmp/peers/bin): skipped", flush=True)
    tools = [t for t in TOOLS if bins.get(t)]
    nginx = find("nginx")
    if not nginx:
        sys.exit("nginx: not found")
    print("uname:", os.uname().release, "cpus:", NCPU, "generator sets:", GEN_SETS, "nginx:", WORKERS,
          "workers on", TARGET_CPUS, "tools:", tools, flush=True)
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except Exception as e:
        print("nofile:", e)
    ng = start_nginx(nginx)
    try:
        if "sat" in MODES:
            for gen in GEN_SETS:
                n = len(cpuset(gen))
                for rep in range(REPS):
                    for tool in tools:
                        record("sat", gen, tool, rep, sat_cmd(tool, bins, 64 * n, n), DUR + 20)
        gen = GEN_SETS[-1]
        n = len(cpuset(gen))
        if "rate" in MODES:
            for rep in range(REPS):
                for tool in tools:
                    argv = rate_cmd(tool, bins, 64 * n)
                    if argv:
                        record("rate%d" % RATE, gen, tool, rep, argv, DUR + 20)
        if "conns" in MODES:
            for tool in tools:
                record("conns%d" % MANY, gen, tool, 0, sat_cmd(tool, bins, MANY, n), DUR + 30)
    finally:
        try:
            with open(ng + "/nginx.pid") as f:
                subprocess.run(["kill", "-QUIT", f.read().strip()])
        except Exception as e:
            print("nginx stop:", e)
    table()


def table():
    print("\n| mode | generator CPUs | tool | rps | req per CPU-s | p99 ms | RSS MB | errors | first-s / steady p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    keys = []
    for r in results:
        k = (r["mode"], r["gen"], r["tool"])
        if k not in keys:
            keys.append(k)
    for k in keys:
        rs = [r for r in results if (r["mode"], r["gen"], r["tool"]) == k]

        def med(f):
            v = sorted(x[f] for x in rs if x.get(f) is not None)
            return v[len(v) // 2] if v else None
        warm = ""
        if med("p99_first_s") is not None:
            warm = "%s / %s" % (med("p99_first_s"), med("p99_steady"))
        rps = med("rps")
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            k[0], k[1], k[2], "{:,.0f}".format(rps) if rps else "—", med("req_per_cpu_s"), med("p99_ms"),
            med("rss_mb"), med("errors"), warm))


if __name__ == "__main__":
    main()
