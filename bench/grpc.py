#!/usr/bin/env python3
"""fuka and ghz against the demo's gRPC service, side by side: calls per generator CPU-second.

Layout: the demo gRPC server (`fuka demo --serve-grpc`, reflection on, unary fuka.demo.Cart/Add)
pinned to TARGET_CPU, each generator pinned to GEN_CPU. Every run is the same call with the same
message at the same concurrency and length; the tools alternate within each repetition so that
a change of background load hits both. CPU seconds and peak RSS come from the generator process's
own rusage (wait4). Calls, errors, p50 and p99 come from each tool's own output (fuka -o json,
ghz -O json). The table gives per-cell medians with the range over REPS, and fuka's calls per
CPU-second over ghz's. Loopback only; Python 3 stdlib only.

Modes: c<N>  closed model, N concurrent callers, as fast as possible (one per CONCS entry)
       rate  open model at RATE calls/s (ghz --rps, its workers -c RATE_WORKERS)

ghz gets --cpus 1 (its default, 2, would run two Go threads on the one pinned CPU; fuka takes
GOMAXPROCS from its affinity) and --disable-template-functions --disable-template-data: by default
it runs the message through text/template and parses the JSON again on every call, which fuka's
quick mode (no templating, the message encoded once) does not; GHZ_TEMPLATES=1 adds a row of ghz
as it is by default ("ghz/templates"). Connections: ghz uses one HTTP/2 connection unless told
(--connections); fuka opens one per 50 callers. GHZ_CONNS=match adds a ghz row per closed mode
with as many connections as fuka opens.

Binaries: fuka is built from this checkout unless FUKA_BIN is set; ghz is GHZ_BIN, then PATH, then
$(go env GOPATH)/bin/ghz (go install github.com/bojand/ghz/cmd/ghz@v0.121.0).

Env: DUR=5  REPS=3  CONCS="32 200"  RATE=10000  RATE_WORKERS=200  MODES="closed rate"
     GEN_CPU=0  TARGET_CPU=1  PORT=19591  GHZ_CONNS=  GHZ_TEMPLATES=  NICE=0  OUT=/tmp/fuka-grpc-bench

  GHZ_TEMPLATES=1 NICE=-10 python3 bench/grpc.py   # the table in bench/README.md (~3 minutes)
  DUR=3 REPS=1 python3 bench/grpc.py      # smoke run
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.environ.get("OUT") or "/tmp/fuka-grpc-bench"
RAW = os.path.join(OUT, "raw")
DUR = int(os.environ.get("DUR", "5"))
REPS = int(os.environ.get("REPS", "3"))
CONCS = [int(c) for c in os.environ.get("CONCS", "32 200").split()]
RATE = int(os.environ.get("RATE", "10000"))
RATE_WORKERS = int(os.environ.get("RATE_WORKERS", "200"))
MODES = os.environ.get("MODES", "closed rate").split()
GEN_CPU = int(os.environ.get("GEN_CPU", "0"))
TARGET_CPU = int(os.environ.get("TARGET_CPU", "1"))
PORT = int(os.environ.get("PORT", "19591"))
GHZ_CONNS = os.environ.get("GHZ_CONNS", "")
GHZ_TEMPLATES = os.environ.get("GHZ_TEMPLATES", "") not in ("", "0")
NICE = int(os.environ.get("NICE", "0"))  # e.g. -10 (root) on a machine others are using
ADDR = "127.0.0.1:%d" % PORT  # fixed host on purpose: loopback only
METHOD = "fuka.demo.Cart/Add"
MESSAGE = '{"item":"tea"}'
FUKA_PER_CONN = 50  # grpccall.clientsPerConn


def build_fuka():
    if os.environ.get("FUKA_BIN"):
        return os.environ["FUKA_BIN"]
    out = os.path.join(tempfile.mkdtemp(), "fuka")
    subprocess.run(["go", "build", "-trimpath", "-o", out, "./cmd/fuka"], cwd=ROOT, check=True,
                   env=dict(os.environ, CGO_ENABLED="0"))
    return out


def find_ghz():
    for p in (os.environ.get("GHZ_BIN"), shutil.which("ghz")):
        if p and os.access(p, os.X_OK):
            return p
    try:
        gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip()
    except OSError:
        gopath = ""
    p = os.path.join(gopath or os.path.expanduser("~/go"), "bin", "ghz")
    return p if os.access(p, os.X_OK) else None


def version(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    return (r.stdout + r.stderr).strip().splitlines()[0] if (r.stdout + r.stderr).strip() else "?"


def ghz_version(ghz):
    # `go install` builds say "dev"; the module line is the version.
    r = subprocess.run(["go", "version", "-m", ghz], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0] == "mod":
            return "%s %s" % (f[1], f[2])
    return version([ghz, "--version"])


def pin(cpu):
    os.sched_setaffinity(0, {cpu})
    if NICE:
        os.nice(NICE)


def start_server(fuka):
    log = open(os.path.join(RAW, "server.log"), "w")
    p = subprocess.Popen([fuka, "demo", "--serve-grpc", ADDR], stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=lambda: pin(TARGET_CPU))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return p
        except OSError:
            if p.poll() is not None:
                sys.exit("demo server exited: see " + log.name)
            time.sleep(0.1)
    p.kill()
    sys.exit("demo server did not listen on " + ADDR)


def run(name, argv, timeout):
    """Run argv pinned to GEN_CPU; return (stdout, cpu_s, maxrss_mb, wall_s, rc)."""
    path = f"{RAW}/{name}"
    t0 = time.time()
    with open(path + ".out", "w") as out, open(path + ".err", "w") as err:
        p = subprocess.Popen(["timeout", "-s", "INT", str(timeout)] + argv, stdout=out, stderr=err,
                             preexec_fn=lambda: pin(GEN_CPU))
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t0
    with open(path + ".out") as f:
        txt = f.read()
    return txt, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, wall, os.waitstatus_to_exitcode(status)


def parse(tool, txt):
    """calls, calls/s, errors (non-OK), p50_ms, p99_ms"""
    try:
        j = json.JSONDecoder().raw_decode(txt[txt.find("{"):])[0]
    except ValueError:
        return None, None, None, None, None
    if tool == "fuka":
        lat = j.get("latency") or {}
        return j["requests"], j["rps"], j["failed"], lat.get("p50_ms"), lat.get("p99_ms")
    # ghz: times in ns; "count" includes errors; non-OK codes are in statusCodeDistribution.
    pct = {d["percentage"]: d["latency"] / 1e6 for d in j.get("latencyDistribution") or []}
    codes = j.get("statusCodeDistribution") or {}
    errors = sum(n for c, n in codes.items() if c != "OK")
    return j["count"], j["rps"], errors, pct.get(50), pct.get(99)


def fuka_cmd(fuka, mode, conc):
    a = [fuka, "attack", "grpc://" + ADDR, "--call", METHOD, "-b", MESSAGE, "-d", "%ds" % DUR,
         "-q", "-o", "json", "--no-report"]
    return a + (["--rate", str(RATE)] if mode == "rate" else ["-c", str(conc)])


def ghz_cmd(ghz, mode, conc, conns=1, templates=False):
    a = [ghz, "--insecure", "--cpus", "1", "--call", METHOD.replace("/", "."), "-d", MESSAGE,
         "-z", "%ds" % DUR, "-O", "json", "--skipFirst", "0"]
    if not templates:
        a += ["--disable-template-functions", "--disable-template-data"]
    if mode == "rate":
        a += ["--rps", str(RATE), "-c", str(RATE_WORKERS)]
    else:
        a += ["-c", str(conc)]
    if conns > 1:
        a += ["--connections", str(conns)]
    return a + [ADDR]


results = []


def record(mode, tool, rep, argv):
    name = f"{mode}-{tool}-{rep}".replace("/", "_")
    txt, cpu, rss, wall, rc = run(name, argv, DUR + 30)
    calls, rps, errors, p50, p99 = parse(tool.split("/")[0], txt)
    r = dict(mode=mode, tool=tool, rep=rep, rc=rc, calls=calls, rps=rps and round(rps), errors=errors,
             p50_ms=p50 and round(p50, 3), p99_ms=p99 and round(p99, 3), cpu_s=round(cpu, 3),
             rss_mb=round(rss, 1), wall_s=round(wall, 2),
             calls_per_cpu_s=round(calls / cpu) if calls and cpu else None,
             load1=round(os.getloadavg()[0], 2))
    results.append(r)
    print(json.dumps(r), flush=True)
    with open(OUT + "/results.jsonl", "a") as f:
        f.write(json.dumps(r) + "\n")
    time.sleep(1)


def main():
    os.makedirs(RAW, exist_ok=True)
    fuka, ghz = build_fuka(), find_ghz()
    if not ghz:
        sys.exit("ghz: not found (GHZ_BIN, PATH, $(go env GOPATH)/bin); "
                 "go install github.com/bojand/ghz/cmd/ghz@v0.121.0")
    print("date:", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "| uname:", os.uname().release,
          "| cpus:", os.cpu_count(), "| load:", " ".join("%.2f" % x for x in os.getloadavg()), flush=True)
    print("fuka:", version([fuka, "version"]), "| ghz:", ghz_version(ghz), "| server on CPU", TARGET_CPU,
          "| generators on CPU", GEN_CPU, "| DUR", DUR, "REPS", REPS, "| nice", NICE, flush=True)
    srv = start_server(fuka)
    try:
        for rep in range(REPS):
            # Alternate which tool goes first so neither always runs after a rest.
            order = ["fuka", "ghz"] if rep % 2 == 0 else ["ghz", "fuka"]
            if "closed" in MODES:
                for conc in CONCS:
                    for tool in order:
                        if tool == "fuka":
                            record("c%d" % conc, "fuka", rep, fuka_cmd(fuka, "closed", conc))
                        else:
                            record("c%d" % conc, "ghz", rep, ghz_cmd(ghz, "closed", conc))
                            if GHZ_TEMPLATES:
                                record("c%d" % conc, "ghz/templates", rep,
                                       ghz_cmd(ghz, "closed", conc, templates=True))
                            n = min(max((conc + FUKA_PER_CONN - 1) // FUKA_PER_CONN, 1), 64)
                            if GHZ_CONNS == "match" and n > 1:
                                record("c%d" % conc, "ghz/%dconns" % n, rep, ghz_cmd(ghz, "closed", conc, n))
            if "rate" in MODES:
                for tool in order:
                    argv = fuka_cmd(fuka, "rate", 0) if tool == "fuka" else ghz_cmd(ghz, "rate", 0)
                    record("rate%d" % RATE, tool, rep, argv)
                    if tool == "ghz" and GHZ_TEMPLATES:
                        record("rate%d" % RATE, "ghz/templates", rep,
                               ghz_cmd(ghz, "rate", 0, templates=True))
    finally:
        srv.send_signal(signal.SIGINT)
        srv.wait(10)
    table()
    # The server's own count of OK answers against the tools' (every run hit the same server).
    with open(os.path.join(RAW, "server.log")) as f:
        m = re.search(r"answered (\d+) calls OK", f.read())
    ok = sum(r["calls"] - r["errors"] for r in results if r.get("calls") is not None)
    print("\nserver: %s calls OK; the tools counted %d OK%s" % (
        m.group(1) if m else "?", ok, "" if m and int(m.group(1)) == ok else
        " (a difference is calls the server answered after a tool gave up on them at its end)"))


def table():
    print("\n| mode | tool | calls/s | calls per CPU-s (range) | fuka ÷ this | p50 ms | p99 ms | errors | CPU s | RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    keys = []
    for r in results:
        if (r["mode"], r["tool"]) not in keys:
            keys.append((r["mode"], r["tool"]))

    def med(rs, f):
        v = sorted(x[f] for x in rs if x.get(f) is not None)
        return v[len(v) // 2] if v else None

    def cell(mode, tool):
        return [r for r in results if (r["mode"], r["tool"]) == (mode, tool)]
    for mode, tool in keys:
        rs = cell(mode, tool)
        per = sorted(x["calls_per_cpu_s"] for x in rs if x.get("calls_per_cpu_s"))
        rng = "%s (%s–%s)" % ("{:,}".format(med(rs, "calls_per_cpu_s")), "{:,}".format(per[0]),
                              "{:,}".format(per[-1])) if per else "—"
        # On each ghz row: fuka's median calls per CPU-second over that row's.
        ratio = ""
        f = med(cell(mode, "fuka"), "calls_per_cpu_s")
        if tool != "fuka" and f and med(rs, "calls_per_cpu_s"):
            ratio = "%.2f×" % (f / med(rs, "calls_per_cpu_s"))
        rps = med(rs, "rps")
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            mode, tool, "{:,}".format(rps) if rps else "—", rng, ratio, med(rs, "p50_ms"), med(rs, "p99_ms"),
            med(rs, "errors"), med(rs, "cpu_s"), med(rs, "rss_mb")))


if __name__ == "__main__":
    main()
