#!/usr/bin/env python3
"""Coverage floor of the fuzz targets (issue 12): runs each libFuzzer
target once over its committed corpus (tests/fuzz/corpus/<target>, no
mutation: -runs=0) with -print_coverage=1, sums the edges libFuzzer
reports covered in that target's own code (the files below) and fails if
the share is under the target's floor. A corpus that stops reaching what
it used to (a seed broken by a protocol change, a harness that bails out
early, a file no longer instrumented) fails here, not silently.

Edges are libFuzzer's inline 8-bit counters under ASan+UBSan, so the
sanitizers' own checks count as (mostly unreachable) edges too: a share
near 100% is impossible. The floors are about 90% of what the committed
corpus covered after the first long campaign was merged into it
(2026-12-02, 7 targets, 3 h 50 min of fuzzing in all, nice 19 on a
shared 2-core machine; README "Fuzzing"): parser 23.2%, conn 30.0%,
scram 28.5%, jid 46.0%, fts 50.7%, config 49.5%, sanitize 39.8%. Raise
them when a later campaign's corpus is committed. conn:rooms is the room
code fuzz_conn reaches since it joins a room (issue 16): 2.7% of it before,
17.7% after the muc_* seeds and a 20-minute campaign (2026-12-02, which
also moved conn to 30.7%: its floor stays 27); floor 15.

Usage: coverage_floor.py BUILD_FUZZ_DIR SOURCE_DIR [TARGET...]
Needs a -Dfuzz=true build (clang); registered as the meson test
fuzz_coverage_floor (suite fuzz), which ./run-tests' fuzz step runs."""
import os
import re
import subprocess
import sys

# target -> (its code: source files, or file:function; floor in % of edges)
TARGETS = {
    "parser": (["src/xml/parser.c", "src/xml/stanza.c", "src/xml/serialize.c", "src/xml/utf8.c"], 21),
    "conn": (["src/core/stream.c", "src/core/stream_sasl.c", "src/core/stream_bind.c",
              "src/core/stream_iq.c", "src/core/stream_sm.c", "src/core/sasl.c", "src/core/sm.c",
              "src/core/iq.c", "src/im/conn.c", "src/im/conn_presence.c", "src/im/conn_roster.c",
              "src/im/message.c", "src/im/presence.c", "src/im/roster.c", "src/im/index.c"], 27),
    # The rooms part of fuzz_conn (XEP-0045, its archive, self-ping,
    # bookmarks), measured from the same run as conn.
    "conn:rooms": (["src/im/muc.c", "src/im/muc_admin.c", "src/im/muc_invite.c",
                    "src/im/muc_mam.c", "src/im/muc_mention.c", "src/im/muc_message.c",
                    "src/im/muc_occupant.c", "src/im/muc_presence.c", "src/im/muc_selfping.c",
                    "src/im/muc_status.c", "src/im/bookmarks.c", "src/im/mam.c"], 15),
    "scram": (["src/core/scram.c"], 26),
    "jid": (["src/core/jid.c", "src/core/precis.c"], 41),
    "fts": (["src/store/fts_query.c", "src/store/fold.c"], 46),
    "config": (["cli/config.c", "cli/settings.c:xt_cli_parse_server", "cli/settings.c:xt_cli_parse_pin"], 45),
    "sanitize": (["cli/sanitize.c"], 36),
}

FUNC = re.compile(r"^(?:UN)?COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) (\S+) (\S+):\d+$")
LOADED = re.compile(r"INFO: Loaded 1 modules\s+\((\d+) inline 8-bit counters\)")
INITED = re.compile(r"INITED cov: (\d+) ft: (\d+)")


def canonical(path, srcdir):
    """A path as libFuzzer prints it -> relative to the source tree. The
    layers' include farm (build/layers/<layer>/<dir> -> src/<dir>) maps
    back to src/."""
    path = os.path.normpath(path)
    if "/layers/" in path or path.startswith("layers/"):
        rest = path.split("layers/", 1)[1].split("/", 1)[1]
        return "src/" + rest
    return os.path.relpath(os.path.realpath(path), os.path.realpath(srcdir))


_runs = {}


def measure(build, srcdir, target):
    # "conn:rooms" is a second part of fuzz_conn's code, from the same run.
    fuzzer = target.split(":")[0]
    exe = os.path.join(build, "tests", "fuzz", "fuzz_" + fuzzer)
    corpus = os.path.join(srcdir, "tests", "fuzz", "corpus", fuzzer)
    env = dict(os.environ, UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    # libFuzzer resolves the file of each function with llvm-symbolizer;
    # the build directory is the working directory, as for its paths.
    if fuzzer not in _runs:
        r = subprocess.run([exe, "-runs=0", "-print_coverage=1", corpus], cwd=build, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace", timeout=900)
        if r.returncode != 0:
            sys.stdout.write(r.stdout[-4000:])
            raise SystemExit("fuzz_%s failed on its own corpus (exit %d)" % (fuzzer, r.returncode))
        _runs[fuzzer] = r.stdout
    out = _runs[fuzzer]
    files, _ = TARGETS[target]
    covered = total = 0
    seen = set()
    for line in out.splitlines():
        m = FUNC.match(line.strip())
        if not m:
            continue
        hit, n, func, path = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        rel = canonical(path, srcdir)
        if rel not in files and rel + ":" + func not in files:
            continue
        if (func, rel) in seen:  # a header's inline function, once per layer
            continue
        seen.add((func, rel))
        covered += hit
        total += n
    loaded = LOADED.search(out)
    inited = INITED.search(out)
    return (covered, total, int(loaded.group(1)) if loaded else 0,
            int(inited.group(1)) if inited else 0, len(os.listdir(corpus)))


def main():
    build, srcdir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    names = sys.argv[3:] or [t for t in TARGETS if os.path.exists(
        os.path.join(build, "tests", "fuzz", "fuzz_" + t.split(":")[0]))]
    failed = []
    print("%-10s %6s %15s %8s %22s %6s" % ("target", "seeds", "own code edges", "share", "all edges (instrumented)", "floor"))
    for t in names:
        covered, total, loaded, cov, seeds = measure(build, srcdir, t)
        floor = TARGETS[t][1]
        share = 100.0 * covered / total if total else 0.0
        ok = total > 0 and share >= floor
        print("%-10s %6d %7d/%-7d %7.1f%% %10d/%-11d %5d%% %s" % (
            t, seeds, covered, total, share, cov, loaded, floor, "ok" if ok else "BELOW FLOOR"))
        if not ok:
            failed.append(t)
    if failed:
        print("coverage below the floor for: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
