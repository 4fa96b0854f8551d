"""Fuzz the ``gpuviz`` command line for minutes: thousands of real invocations with hostile arguments and files.

Each call is a fresh process (``python -m gpuviz ARGS``) with a time limit (``--timeout``, default the app's own
simulator budget, 2 min, plus 1 min: a run the app accepts may simulate that long, e.g. ``run --m 8 --n 65536
--k 8 --backend simulator``, estimated at 107 s, is no hang) and an
address-space limit (``RLIMIT_AS``, default 3 GiB, inherited by its worker), in a scratch folder holding a FIFO,
a folder, a read-only file, a kernel file, a deep scenario and a huge sparse file to be given as paths. Arguments
are a command's valid base with one to three options replaced by hostile values: numbers of thousands of digits,
negative, NaN, infinite, unicode digits; empty, over-long, FIFO, device and folder paths; random text; mutated
scenario files.

Counted: invocations; tracebacks; multi-line errors (exit 2 with other than one stderr line, or exit 1 whose
last stderr line does not say why; ``check``'s exit 1 with its findings counted in stdout's last line is its
documented result, not a failure); hangs (killed at the time limit); crashes (killed by a signal); memory over the
limit (a MemoryError, or a child whose peak resident set reached the limit). The last line is the summary;
every count but invocations must be 0. Each failing call is printed (and kept, with ``--log FILE``).

    python scripts/fuzz_cli.py                  # about 3 minutes
    python scripts/fuzz_cli.py --minutes 10     # the release check
    python scripts/fuzz_cli.py --seed 7 --jobs 4
    python scripts/fuzz_cli.py --commands export,bench   # only those commands
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from gpuviz.model.budget import DEFAULT_SIMULATOR_SECONDS  # noqa: E402  (a checkout's gpuviz, not an installed one)

GIB = 1024**3

# -- hostile values ----------------------------------------------------------------------------------------

NUMBERS = ["-1", "0", "-0", "1e999999999", "1e308", "1e-320", "nan", "inf", "-inf", "1_000", "0x10", "1.5", "²",
           "٣", "9" * 19, "9" * 20, "9" * 400, "9" * 5000, "4294967296", "2147483648", "1e30", "1e31", " 7 ",
           "8x8", "1k", "1M", "1e6", "65536", "1048577", "0.001", "100000000", "5001", "-99999999999999999999"]
PATHS = ["", " ", ".", "folder", "fifo", "fifo.png", "fifo.json", "fifo.npz", "fifo.toml", "/dev/null",
         "/dev/zero", "/proc/gpuviz.png", "/proc/self/status", "missing/x.png", "a" * 300 + ".png",
         "a" * 255 + ".png", "readonly.png", "x.png", "x.npz", "x.json", "x.gif", "x.svg", "folder/",
         "deep.toml", "dotted.toml", "huge.json", "huge.toml", "k.py", "out"]
TEXT_ALPHABET = "abcxyzXY0123456789 ,;()[]{}-_.:/\\'\"=*×²é€\t%$#@!~`^&|<>?"


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.randint(0, 40)))


def value(rng: random.Random, kind: str) -> str:
    roll = rng.random()
    if kind == "number" or (kind == "any" and roll < 0.4):
        if rng.random() < 0.2:
            return str(rng.randint(-2**70, 2**70))
        return rng.choice(NUMBERS)
    if kind == "path" or (kind == "any" and roll < 0.7):
        return rng.choice(PATHS) if rng.random() < 0.85 else random_text(rng)
    if kind == "shape":
        return rng.choice(["(4, 3)", "(3,)", "()", "(0,)", f"({rng.choice(NUMBERS)}, 3)", "(" + "2, " * 40 + ")",
                           "(1000000000,)", random_text(rng)])
    return random_text(rng)


LAUNCH = ["--kernel", "naive", "--m", "8", "--n", "8", "--k", "8", "--block", "8x8"]
N, P, A, T, S = "number", "path", "any", "text", "shape"
# (base argv, {option: kind}); "@" is a positional slot
COMMANDS = {
    "run": (["run", *LAUNCH, "--backend", "simulator"],
            {"--m": N, "--n": N, "--k": N, "--block": A, "--seed": N, "--memory": A, "--repeat": N, "--kernel": T}),
    "trace": (["trace", *LAUNCH, "--source", "vectorized", "--out", "t.npz"],
              {"--m": N, "--k": N, "--seed": N, "--memory": A, "--out": P, "--block": A, "--source": T}),
    "grad": (["grad", "--layer", "toy"],
             {"--seed": N, "--batch": N, "--alpha": N, "--train": N, "--layer": T, "--loss": T}),
    "grad-digits": (["grad", "--layer", "digits", "--train", "3"],
                    {"--seed": N, "--batch": N, "--alpha": N, "--train": N}),
    "bench": (["bench", "--op", "dot", "--impl", "numpy", "--sizes", "1000", "--max-seconds", "1"],
              {"--sizes": A, "--repeats": N, "--max-seconds": N, "--save": P, "--impl": T, "--op": T}),
    "bench-load": (["bench", "--load", "x.json"], {"--load": P}),
    "occupancy": (["occupancy", "--gpu", "h100", "--threads", "256", "--regs", "32", "--smem", "0"],
                  {"--threads": N, "--regs": N, "--smem": A, "--grid": A, "--gpu": T}),
    "check": (["check", "--kernel-file", "k.py", "--grid", "2", "--block", "8", "--arg", "a=float32[16]:arange",
               "--arg", "out=float32[16]:zeros", "--arg", "n=16"],
              {"--kernel-file": P, "--grid": A, "--block": A, "--timeout": N, "--max-global-reads": N, "--arg": A}),
    "broadcast": (["broadcast", "@", "(3,)"], {"@": S, "--values": A}),
    "export-matmul": (["export", "matmul", *LAUNCH[:8], "--out", "x.png", "--size", "320x240"],
                      {"--m": N, "--seed": N, "--size": A, "--out": P, "--step": N, "--steps": A, "--fps": N,
                       "--scenario": P, "--preset": T, "--memory": A}),
    "export-broadcast": (["export", "broadcast", "@", "(3,)", "--out", "x.png", "--size", "320x240"],
                         {"@": S, "--values": A, "--out": P, "--size": A}),
    "export-grad": (["export", "grad", "--layer", "toy", "--out", "x.png", "--size", "320x240"],
                    {"--train": N, "--alpha": N, "--seed": N, "--batch": N, "--out": P, "--view": T}),
    "export-speed": (["export", "speed", "--results", "x.json", "--out", "x.png", "--size", "320x240"],
                     {"--results": P, "--out": P}),
    "export-hardware": (["export", "hardware", "--out", "x.png", "--size", "320x240"],
                        {"--out": P, "--size": A, "--scenario": P, "--preset": T, "--theme": T}),
    "export-deck": (["export", "--deck", "decks", "--out", "out", "--size", "320x240"],
                    {"--deck": P, "--out": P, "--format": T, "--memory": A}),
    "app": (["--screenshot", "x.png", "--size", "320x240"],
            {"--screenshot": P, "--size": A, "--scenario": P, "--preset": T, "--theme": T}),
}


def make_argv(rng: random.Random, commands=None) -> list[str]:
    base, options = COMMANDS[rng.choice(sorted(commands or COMMANDS))]
    argv = list(base)
    for option in rng.sample(sorted(options), k=min(len(options), rng.randint(1, 3))):
        v = value(rng, options[option])
        if option == "@":
            argv[argv.index("@")] = v
        elif option in argv:
            argv[argv.index(option) + 1] = v
        else:
            argv += [option, v]
    return [a if a != "@" else "(4, 3)" for a in argv]


# -- the scratch folder ------------------------------------------------------------------------------------


def make_scratch(folder: Path, rng: random.Random) -> None:
    (folder / "folder").mkdir()
    for name in ("fifo", "fifo.png", "fifo.json", "fifo.npz", "fifo.toml"):
        os.mkfifo(folder / name)
    ro = folder / "readonly.png"
    ro.write_bytes(b"")
    ro.chmod(0o444)
    (folder / "k.py").write_text((ROOT / "tests" / "kernels" / "diff_ok.py").read_text())
    (folder / "deep.toml").write_text('schema = 1\npanel = "broadcast"\ntitle = "t"\n[params]\nshapes = '
                                      + "[" * 1000 + "]" * 1000 + "\n")
    (folder / "dotted.toml").write_text("schema = 1\n" + ".".join(["a"] * 20000) + " = 1\n")
    for name in ("huge.json", "huge.toml"):
        with open(folder / name, "wb") as f:
            f.truncate(8 * GIB)  # sparse: takes no disk, reads as zeros
    decks = folder / "decks"
    decks.mkdir()
    presets = sorted((ROOT / "assets" / "presets").glob("*.toml"))
    for i, preset in enumerate(rng.sample(presets, k=min(4, len(presets)))):
        lines = preset.read_text(encoding="utf-8").splitlines()
        if i and lines:  # the others mutated: one value made hostile
            j = rng.randrange(len(lines))
            if "=" in lines[j]:
                lines[j] = lines[j].split("=", 1)[0] + "= " + rng.choice(
                    ["-1", "9" * 400, "nan", "[" * 300 + "]" * 300, '"(1000000000,)"', "2147483648", '""'])
        (decks / preset.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.mkfifo(decks / "fifo.toml")
    (folder / "x.json").write_text(json.dumps({"format": "gpuviz-bench", "version": 1, "results": [[[[]]]]}))


# -- one call ----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    argv: list[str]
    code: int | None
    stderr: str
    seconds: float
    max_rss: int
    problems: list[str] = field(default_factory=list)


def run_one(argv: list[str], cwd: Path, timeout: float, memory: int) -> Outcome:
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="0")
    env.pop("DISPLAY", None)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "gpuviz", *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit,
                            start_new_session=True)  # its own process group: a hang is killed with its worker
    err_chunks: list[bytes] = []
    out_chunks: list[bytes] = []

    def read(stream, chunks):
        # all of it is read (a full pipe would block the call), the last 256 KiB kept
        kept = 0
        while chunk := stream.read1(65536):
            chunks.append(chunk)
            kept += len(chunk)
            while kept > 256 * 1024 and len(chunks) > 1:
                kept -= len(chunks.pop(0))

    readers = [threading.Thread(target=read, args=(proc.stderr, err_chunks), daemon=True),
               threading.Thread(target=read, args=(proc.stdout, out_chunks), daemon=True)]
    for reader in readers:
        reader.start()
    hung = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            hung = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(5)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # a worker left behind
    except (ProcessLookupError, PermissionError):
        pass
    stderr = b"".join(err_chunks).decode("utf-8", "replace")
    out = Outcome(argv, None if hung else proc.returncode, stderr, time.monotonic() - started,
                  usage.ru_maxrss * 1024)
    lines = [line for line in stderr.splitlines() if line.strip()]
    if hung:
        out.problems.append("hang")
    elif proc.returncode < 0:
        out.problems.append("crash")
    if "Traceback" in stderr:
        out.problems.append("traceback")
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr or out.max_rss >= memory:
        out.problems.append("memory")
    if not hung and proc.returncode == 2 and len(lines) != 1:
        out.problems.append("multi-line")
    if not hung and proc.returncode == 1 and not (lines and lines[-1].startswith("gpuviz") and len(lines[-1]) > 15) \
            and not _check_findings(argv, b"".join(out_chunks).decode("utf-8", "replace")):
        out.problems.append("multi-line")
    return out


_FINDINGS = re.compile(r"[0-9][0-9,]* finding\(s\): \S")


def _check_findings(argv: list[str], stdout: str) -> bool:
    """``gpuviz check``'s exit 1 that means findings (documented: 0 no finding, 1 findings), not a failure: its
    report is the output, on stdout, and its last line counts them (``1 finding(s): race``)."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    return argv[:1] == ["check"] and bool(lines) and bool(_FINDINGS.match(lines[-1]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=3.0, help="how long to run (default 3)")
    p.add_argument("--seed", type=int, default=None, help="seed of the generated arguments (default: random)")
    p.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="calls at a time")
    p.add_argument("--timeout", type=float, default=DEFAULT_SIMULATOR_SECONDS + 60.0,
                   help="seconds before a call counts as a hang (default: the simulator budget + 60 s)")
    p.add_argument("--memory", type=float, default=3.0, help="address-space limit of a call in GiB (default 3)")
    p.add_argument("--log", type=Path, help="also write every failing call as JSON lines here")
    p.add_argument("--commands", metavar="PREFIX,...",
                   help="only the commands whose names start with one of these (e.g. export), of: "
                        + ", ".join(sorted(COMMANDS)))
    args = p.parse_args(argv)
    commands = sorted(COMMANDS)
    if args.commands:
        prefixes = [c.strip() for c in args.commands.split(",") if c.strip()]
        commands = [c for c in commands if any(c.startswith(prefix) for prefix in prefixes)]
        if not commands:
            p.error(f"--commands {args.commands!r} names none of: {', '.join(sorted(COMMANDS))}")
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    memory = int(args.memory * GIB)
    scratch = Path(tempfile.mkdtemp(prefix="gpuviz-fuzz-"))
    over = f"peak memory over {args.memory:g} GiB"
    counts = {"invocations": 0, "tracebacks": 0, "multi-line errors": 0, "hangs": 0, "crashes": 0, over: 0}
    codes: dict[str, int] = {}
    peak = 0
    lock = threading.Lock()
    log = open(args.log, "w") if args.log else None
    deadline = time.monotonic() + 60 * args.minutes
    print(f"fuzzing gpuviz for {args.minutes:g} min, seed {seed}, {args.jobs} at a time, "
          f"{args.timeout:g} s and {args.memory:g} GiB per call"
          + (f", commands {', '.join(commands)}" if args.commands else ""), flush=True)

    def worker(index: int) -> None:
        nonlocal peak
        folder = scratch / f"w{index}"
        folder.mkdir()
        with lock:
            local = random.Random(rng.randrange(2**32))
        make_scratch(folder, local)
        while time.monotonic() < deadline:
            argv = make_argv(local, commands)
            out = run_one(argv, folder, args.timeout, memory)
            with lock:
                counts["invocations"] += 1
                key = "hang" if out.code is None else str(out.code)
                codes[key] = codes.get(key, 0) + 1
                peak = max(peak, out.max_rss)
                for problem, name in (("traceback", "tracebacks"), ("multi-line", "multi-line errors"),
                                      ("hang", "hangs"), ("crash", "crashes"), ("memory", over)):
                    if problem in out.problems:
                        counts[name] += 1
                if out.problems:
                    shown = " ".join(a if len(a) < 60 else a[:40] + f"…({len(a)})" for a in argv)
                    tail = out.stderr.strip().splitlines()[-1:] or [""]
                    print(f"[{','.join(out.problems)}] exit {out.code} in {out.seconds:.1f} s: gpuviz {shown}\n"
                          f"    {tail[0][:300]}", flush=True)
                    if log:
                        log.write(json.dumps({"argv": argv, "code": out.code, "problems": out.problems,
                                              "stderr": out.stderr[-4000:]}) + "\n")
                        log.flush()

    try:
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(worker, range(args.jobs)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if log:
            log.close()
    print("exit codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())))
    print(f"largest resident set of a call: {peak / GIB:.2f} GiB (its worker not included)")
    print("; ".join(f"{k}: {v}" for k, v in counts.items()) + f" (seed {seed})")
    return 0 if all(v == 0 for k, v in counts.items() if k != "invocations") else 1


if __name__ == "__main__":
    sys.exit(main())
