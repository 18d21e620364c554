#!/usr/bin/env python3
"""swap_load_client.py: a separate client process that drives modhost through a hot-swap storm.

It starts the modhost binary itself and owns its stdin and stdout. One thread streams a steady
flow of `<module>.add [n]` calls (state-changing), with a `<module>.total` read after every
tenth; another thread swaps the module back and forth between two builds (`modules.swap` to
--v2, then --v1, ...) while the stream flows, each swap sent after the previous one answered. A
reader thread collects every response. At the end it reads the final total and version, closes
modhost's stdin (a graceful shutdown) and prints one JSON summary on stdout:

    {
      "requests": n,             every request sent (adds, totals, swaps, final reads)
      "responses": n,            every response line received
      "missing": [ids],          requests with no response
      "duplicates": [ids],       requests with more than one response
      "unexpected": [ids],       responses to ids never sent
      "errors": [{id, error}],   responses that are JSON-RPC errors (swaps included)
      "adds": n, "totals": n,
      "addMismatches": n,        add results that are not the running sum, in send order
      "totalMismatches": n,      total reads that are not the running sum at that point
      "mismatchExamples": [...], the first few of those
      "swaps": [{id, path, result or error}],
      "addsSentDuringSwaps": n,  adds written while a swap was outstanding
      "expectedTotal": n,        the sum of every value added
      "finalTotal": n, "finalVersion": "x.y.z",
      "exitCode": n,             modhost's exit status (null if it had to be killed)
      "timedOut": bool           true if some response never came within --timeout
    }

The caller (SwapUnderLoadTests.swift) asserts on it. Calls of one module run in the order they
were written, so every add's result must be exactly the running sum of the values sent so far:
that checks at once that no call was lost, duplicated, reordered or run on a state that was not
carried over.

Usage:
    swap_load_client.py --modhost BIN --plugins DIR --state-dir DIR --v1 PATH --v2 PATH
                        [--module counter] [--swaps 24] [--calls 3000] [--stderr FILE]
                        [--timeout 120] [--host-arg ARG ...]
The module must be loaded from --plugins at start (built from --v1's source, version 1).
"""

import argparse
import json
import subprocess
import sys
import threading
import time


class Client:
    def __init__(self, process):
        self.process = process
        self.write_lock = threading.Lock()
        self.condition = threading.Condition()
        self.responses = {}      # id -> [message, ...]
        self.unexpected = []
        self.sent = []           # ids in send order
        self.sent_set = set()
        self.lines = 0
        self.closed = False

    def send(self, request_id, method, params=None):
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        line = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        with self.write_lock:
            with self.condition:
                self.sent.append(request_id)
                self.sent_set.add(request_id)
            self.process.stdin.write(line)
            self.process.stdin.flush()

    def read_loop(self):
        for raw in self.process.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(message, dict) or "id" not in message:
                continue  # event notifications
            if "result" not in message and "error" not in message:
                continue
            with self.condition:
                self.lines += 1
                request_id = message["id"]
                if request_id not in self.sent_set:
                    self.unexpected.append(request_id)
                self.responses.setdefault(request_id, []).append(message)
                self.condition.notify_all()
        with self.condition:
            self.closed = True
            self.condition.notify_all()

    def wait_for(self, request_id, deadline):
        with self.condition:
            while request_id not in self.responses:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    return None
                self.condition.wait(remaining)
            return self.responses[request_id][0]

    def wait_for_all(self, deadline):
        with self.condition:
            while any(i not in self.responses for i in self.sent):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    return False
                self.condition.wait(min(remaining, 0.5))
            return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modhost", required=True)
    parser.add_argument("--plugins", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--v1", required=True)
    parser.add_argument("--v2", required=True)
    parser.add_argument("--module", default="counter")
    parser.add_argument("--swaps", type=int, default=24)
    parser.add_argument("--calls", type=int, default=3000, help="at least this many adds (more while swaps go on)")
    parser.add_argument("--stderr", default=None, help="file for modhost's stderr (default: inherit)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--host-arg", action="append", default=[])
    args = parser.parse_args()

    stderr = open(args.stderr, "wb") if args.stderr else None
    process = subprocess.Popen(
        [args.modhost, "--state-dir", args.state_dir, "--plugins", args.plugins] + args.host_arg,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
    client = Client(process)
    reader = threading.Thread(target=client.read_loop, daemon=True)
    reader.start()
    deadline = time.monotonic() + args.timeout
    module = args.module

    client.send("ready", module + ".version")
    ready = client.wait_for("ready", deadline)

    adds = []          # (id, value) in send order
    totals = []        # (id, number of adds sent before it)
    swaps = []         # (id, path)
    swap_outstanding = threading.Event()
    swapper_done = threading.Event()
    adds_during_swaps = [0]
    enough_adds = threading.Event()

    def stream():
        i = 0
        while (not swapper_done.is_set() or i < args.calls) and time.monotonic() < deadline:
            value = (i * 7919) % 997 - 300  # varied, some negative
            request_id = "add-%d" % i
            adds.append((request_id, value))
            client.send(request_id, module + ".add", [value])
            if swap_outstanding.is_set():
                adds_during_swaps[0] += 1
            if i % 10 == 9:
                totals.append(("total-%d" % i, len(adds)))
                client.send("total-%d" % i, module + ".total")
            i += 1
            if i == 100:
                enough_adds.set()
            if i % 20 == 0:
                time.sleep(0.002)  # steady, not a single burst
        enough_adds.set()

    def swapper():
        enough_adds.wait(timeout=max(0.0, deadline - time.monotonic()))
        for k in range(args.swaps):
            path = args.v2 if k % 2 == 0 else args.v1
            request_id = "swap-%d" % k
            swaps.append((request_id, path))
            swap_outstanding.set()
            client.send(request_id, "modules.swap", {"id": module, "path": path})
            answered = client.wait_for(request_id, deadline)
            swap_outstanding.clear()
            if answered is None:
                break
            time.sleep(0.005 + (k % 5) * 0.005)
        swapper_done.set()

    threads = [threading.Thread(target=stream), threading.Thread(target=swapper)]
    if ready is not None:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    client.send("final-total", module + ".total")
    client.send("final-version", module + ".version")
    complete = client.wait_for_all(deadline)

    try:
        process.stdin.close()
    except OSError:
        pass
    try:
        exit_code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        exit_code = None
    reader.join(timeout=5)
    if stderr:
        stderr.close()

    with client.condition:
        responses = dict(client.responses)
        unexpected = list(client.unexpected)
        lines = client.lines
        sent = list(client.sent)

    def result(request_id):
        messages = responses.get(request_id) or [{}]
        return messages[0].get("result")

    errors = [{"id": i, "error": m["error"]} for i, ms in responses.items() for m in ms if "error" in m]
    running = []
    total = 0
    for _, value in adds:
        total += value
        running.append(total)
    mismatches = []
    for index, (request_id, _) in enumerate(adds):
        got = result(request_id)
        if got != running[index]:
            mismatches.append({"id": request_id, "expected": running[index], "got": got})
    add_mismatches = len(mismatches)
    for request_id, count in totals:
        expected = running[count - 1] if count else 0
        got = result(request_id)
        if got != expected:
            mismatches.append({"id": request_id, "expected": expected, "got": got})

    summary = {
        "ready": ready.get("result") if ready else None,
        "requests": len(sent),
        "responses": lines,
        "missing": [i for i in sent if i not in responses],
        "duplicates": [i for i, ms in responses.items() if len(ms) > 1],
        "unexpected": unexpected,
        "errors": errors,
        "adds": len(adds),
        "totals": len(totals),
        "addMismatches": add_mismatches,
        "totalMismatches": len(mismatches) - add_mismatches,
        "mismatchExamples": mismatches[:5],
        "swaps": [dict({"id": i, "path": p}, **({k: v for k, v in (responses.get(i) or [{}])[0].items() if k in ("result", "error")}))
                  for i, p in swaps],
        "addsSentDuringSwaps": adds_during_swaps[0],
        "expectedTotal": total,
        "finalTotal": result("final-total"),
        "finalVersion": result("final-version"),
        "exitCode": exit_code,
        "timedOut": not complete,
    }
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
