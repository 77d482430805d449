#!/usr/bin/env python3
"""The TUI end to end, driven through tmux as a user would: views, sort, filter (with a
negation and a syntax error), detail views, export, copy (OSC 52 into a tmux buffer),
pause, totals, ports, help, resizes down to 40x10, quit, and the terminal restored after
quit, SIGTERM, SIGHUP and a crash signal.

Oracles: the same replay's --json-lines output (row counts, ports) and tshark (the HTTP
Host shown in the connection detail view).

usage: tui_test.py NETSCOPE PCAPS_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SKIP, check, fail, run, tmpdir  # noqa: E402

NETSCOPE = os.path.abspath(sys.argv[1])
PCAPS = sys.argv[2] if len(sys.argv) > 2 else ""
SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples",
                      "netscope-sample.pcap")
# A private tmux server for this run: the pid keeps two runs at once (CI and a developer,
# or two build trees) from killing each other's server.
SOCKET = "netscope-tui-40-%d" % os.getpid()


CONF = "/dev/null"


def tmux(*args, check_rc=True):
    r = run(["tmux", "-L", SOCKET, "-f", CONF] + list(args))
    if check_rc and r.returncode != 0:
        fail("tmux %s: %s" % (" ".join(args), r.stderr))
    return r


class Session:
    """One tmux session running netscope inside sh, which reports the exit code and the
    terminal mode (stty) once netscope has ended."""

    def __init__(self, name, netscope_args, env="", width=160, height=48, cwd=None):
        self.name = name
        cmd = "cd %s; env LANG=C.UTF-8 %s %s %s; echo EXIT=$?; stty -a | tr '\\n' ' '; echo; " \
              "echo STTY-DONE; sleep 600" % (cwd or "/tmp", env, NETSCOPE, " ".join(netscope_args))
        tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), cmd)

    def screen(self, escapes=False):
        args = ["capture-pane", "-p", "-t", self.name]
        if escapes:
            args.insert(2, "-e")
        return tmux(*args).stdout

    def keys(self, *keys):
        tmux("send-keys", "-t", self.name, *keys)

    def type(self, text):
        tmux("send-keys", "-t", self.name, "-l", text)

    def wait(self, pred, what, tries=100):
        """Bounded wait (no timing assertion): polls the screen until pred(screen)."""
        s = ""
        for _ in range(tries):
            s = self.screen()
            if pred(s):
                # A frame may be captured half drawn: wait until two captures agree.
                for _ in range(20):
                    time.sleep(0.05)
                    again = self.screen()
                    if again == s:
                        break
                    s = again
                if pred(s):
                    return s
            time.sleep(0.1)
        fail("%s; screen was:\n%s" % (what, s))

    def wait_text(self, text, tries=100):
        return self.wait(lambda s: text in s, "'%s' never showed" % text, tries)

    def netscope_pid(self):
        sh = tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").stdout.strip()
        # sh -> env -> netscope (env execs, so the child of sh is netscope itself)
        for _ in range(50):
            try:
                with open("/proc/%s/task/%s/children" % (sh, sh)) as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            for k in kids:
                try:
                    with open("/proc/%s/comm" % k) as f:
                        if f.read().strip() == "netscope":
                            return int(k)
                except OSError:
                    pass
            time.sleep(0.1)
        fail("netscope's pid not found under the tmux pane")

    def kill(self):
        tmux("kill-session", "-t", self.name, check_rc=False)


def table_title(screen, name):
    m = re.search(r"%s \((\d+)(?: of (\d+))?\)" % name, screen)
    return (int(m.group(1)), int(m.group(2)) if m.group(2) else None) if m else None


UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def connection_rates(screen):
    """(down, up) bytes/s of every connection row on a full-screen Connections view."""
    rows = []
    lines = screen.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("PROTO"))
    for line in lines[start + 1:]:
        m = re.findall(r"([\d.]+) (B|kB|MB|GB)/s", line)
        if len(m) < 2:
            break
        rows.append(tuple(float(v) * UNITS[u] for v, u in m[:2]))
    return rows


def terminal_restored(screen):
    m = re.search(r"EXIT=(\d+)\s*\n(.*)STTY-DONE", screen, re.S)
    if not m:
        return None, None
    stty = " " + m.group(2).replace("\n", " ") + " "
    return int(m.group(1)), (" icanon " in stty and " echo " in stty)


def oracle(pcap):
    """The last tick of the same replay as --json-lines."""
    r = run([NETSCOPE, "--read", pcap, "--speed", "0", "--json-lines"])
    if r.returncode != 0:
        fail("--json-lines replay failed: " + r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    if subprocess.run(["which", "tmux"], capture_output=True).returncode != 0:
        print("skip: needs tmux")
        sys.exit(SKIP)
    tick = oracle(SAMPLE)
    conns = tick["connections"]
    n_conns = len(conns)
    n_8080 = sum(1 for c in conns if 8080 in (c["local_port"], c["remote_port"]))
    n_not_tcp = sum(1 for c in conns if c["proto"] != "tcp")
    hosts = run(["tshark", "-n", "-r", SAMPLE, "-Y", "http.request", "-T", "fields",
                 "-e", "http.host"]).stdout.split()
    host_8080 = next(h for h in hosts if h.endswith(":8080"))
    tmux("kill-server", check_rc=False)
    sessions = []
    out = tmpdir()
    global CONF
    CONF = os.path.join(out, "tmux.conf")
    with open(CONF, "w") as f:
        # OSC 52 from the application becomes a tmux paste buffer (the clipboard oracle).
        f.write("set -s set-clipboard on\nset -g default-terminal screen-256color\n"
                "set -s escape-time 0\n")
    os.makedirs(os.path.join(out, "export"))
    if True:
        try:
            export_dir = os.path.join(out, "export")
            ui = Session("tui", ["--read", SAMPLE, "--speed", "0", "--export-dir", export_dir])
            sessions.append(ui)

            # The overview at 160x48, with the final state of the replay marked [END].
            s = ui.wait_text("[END]")
            check(all(t in s for t in ("Processes (", "Remotes (", "Connections (")),
                  "160x48 shows the overview: processes, remotes and connections")
            check(table_title(s, "Connections") == (n_conns, None),
                  "the connections table holds the replay's %d connections (%s)"
                  % (n_conns, table_title(s, "Connections")))
            check("<UNKNOWN>" in s, "unattributed traffic (a replay) shows as <UNKNOWN>")
            check("q quit" in s.splitlines()[-1], "the footer shows key hints")

            # Tab cycles the views.
            ui.keys("Tab")
            s = ui.wait(lambda s: "Remotes (" not in s, "Tab did not leave the overview")
            check("Processes (" in s and "Connections (" not in s, "Tab: the processes view")
            ui.keys("Tab")
            s = ui.wait(lambda s: "Connections (" in s and "Processes (" not in s,
                        "Tab did not reach the connections view")
            check("sorted by DOWN ▼" in s, "the title states the sort, rates descending")

            # Sort: s cycles to the UP column, S flips it.
            ui.keys("s")
            s = ui.wait_text("sorted by UP ▼")
            check("UP▼" in s, "the sort column is marked with an arrow")
            up = [r[1] for r in connection_rates(s)]
            check(len(up) == n_conns and up == sorted(up, reverse=True),
                  "rows are in descending UP order: %s" % up)
            ui.keys("S")
            s = ui.wait_text("sorted by UP ▲")
            up = [r[1] for r in connection_rates(s)]
            check(up == sorted(up), "S flips to ascending UP order")
            ui.keys("S")
            ui.wait_text("sorted by UP ▼")

            # Filter: keyword, negation, syntax error, Esc.
            ui.keys("/")
            ui.type("port:8080")
            s = ui.wait(lambda s: table_title(s, "Connections") == (n_8080, n_conns),
                        "port:8080 did not filter to %d of %d" % (n_8080, n_conns))
            check("filter: port:8080" in s, "the title shows the active filter")
            check("sorted by UP ▼" in s, "the sort survives filtering")
            ui.keys("C-u")
            ui.type("!proto:tcp")
            ui.wait(lambda s: table_title(s, "Connections") == (n_not_tcp, n_conns),
                    "!proto:tcp did not keep the %d non-TCP connections" % n_not_tcp)
            check(True, "a negated term keeps the %d non-TCP connections" % n_not_tcp)
            ui.keys("C-u")
            ui.type("port:abc")
            s = ui.wait(lambda s: "error at" in s, "a bad filter shows no error")
            check(table_title(s, "Connections") == (n_conns, None),
                  "a filter with a syntax error applies nothing")
            footer = [l for l in ui.screen(escapes=True).splitlines() if "error at" in l][0]
            check("\x1b[31m" in footer or "38;5;196" in footer or "\x1b[1;31m" in footer
                  or "\x1b[91m" in footer, "the syntax error is shown in red")
            ui.keys("Escape")
            s = ui.wait(lambda s: "error at" not in s and "filter:" not in s,
                        "Esc did not clear the filter")
            check(table_title(s, "Connections") == (n_conns, None), "Esc clears the filter")

            # Detail view of the connection to :8080 (HTTP Host from tshark).
            ui.keys("/")
            ui.type("port:8080")
            ui.wait(lambda s: table_title(s, "Connections") == (n_8080, n_conns), "refilter")
            ui.keys("Enter")  # done typing
            ui.keys("Enter")  # open the detail
            s = ui.wait_text("http host")
            check(re.search(r"http host\s+" + re.escape(host_8080), s) is not None,
                  "the connection detail shows the HTTP Host tshark sees (%s)" % host_8080)
            check("TCP health" in s and "retransmissions" in s and "rtt" in s,
                  "the connection detail shows TCP health counters and RTT")
            check("attribution" in s and "offline" in s,
                  "the connection detail gives the reason it is unattributed")

            # Copy the remote address with OSC 52 (tmux keeps it as a paste buffer).
            remote = [c for c in conns if 8080 in (c["local_port"], c["remote_port"])][0]
            ui.keys("c")
            ui.wait_text("copied")
            buf = ""
            for _ in range(50):
                buf = tmux("show-buffer", check_rc=False).stdout
                if buf:
                    break
                time.sleep(0.1)
            check(buf == remote["remote_addr"],
                  "c copies the remote address through OSC 52 (%r)" % buf)
            ui.keys("Escape")
            ui.wait(lambda s: "http host" not in s, "Esc did not close the detail")

            # Export the filtered view.
            ui.keys("e")
            s = ui.wait_text("exported to")
            files = [f for f in os.listdir(export_dir) if f.endswith(".json")]
            check(len(files) == 1 and files[0].startswith("netscope-connections-"),
                  "e writes one timestamped file: %s" % files)
            with open(os.path.join(export_dir, files[0])) as f:
                doc = json.load(f)
            check(doc["schema"] == "netscope.tui_export/1", "the export has its schema key")
            rows = doc["connections"]["rows"]
            check(len(rows) == n_8080 and rows[0]["remote_port"] == 8080,
                  "the export holds the rows on screen (filtered)")
            check(doc["filter"] == "port:8080", "the export names its filter")
            ui.keys("Escape")

            # Pause, totals, ports.
            ui.keys("Space")
            ui.wait_text("[PAUSED]")
            ui.keys("Space")
            ui.wait(lambda s: "[PAUSED]" not in s, "Space did not resume")
            check(True, "Space pauses and resumes")
            ui.keys("t")
            s = ui.wait_text("· totals")
            check(not connection_rates(s), "t shows cumulative totals instead of rates")
            ui.keys("t")
            s = ui.wait(lambda s: ":http-alt" in s, "service names missing")
            ui.keys("p")
            s = ui.wait(lambda s: ":http-alt" not in s and ":8080" in s, "p did not show numbers")
            check(True, "p switches service names to port numbers")
            ui.keys("p")

            # Process detail: pid, the <UNKNOWN> reason, graph, connections and DNS lists.
            ui.keys("BTab")
            s = ui.wait(lambda s: "Processes (" in s and "Connections (" not in s,
                        "Shift-Tab did not go back to processes")
            ui.keys("Enter")
            s = ui.wait_text("DNS queries")
            check("reason offline" in s and "Connections (" in s and "last " in s,
                  "the process detail shows the reason, the 60 s graph and its connections")
            ui.keys("Tab")
            ui.keys("Escape")
            ui.wait(lambda s: "DNS queries" not in s, "Esc did not leave the process detail")

            # Help overlay.
            ui.keys("?")
            s = ui.wait_text("Keys (any key closes)")
            check("SIGTERM" in s and "OSC 52" in s, "? shows the help overlay")
            ui.keys("Escape")
            ui.wait(lambda s: "Keys (any key closes)" not in s, "the help did not close")

            # Resizes: down to 60x15 and back to the overview; then 40x10, with keys.
            ui.keys("BTab")
            ui.wait(lambda s: "Remotes (" in s and "Processes (" in s, "BTab: no overview")
            tmux("resize-window", "-t", "tui", "-x", "60", "-y", "15")
            ui.wait(lambda s: len(s.splitlines()) <= 15 and "Processes (" in s
                    and "Remotes (" not in s, "no single table at 60x15")
            tmux("resize-window", "-t", "tui", "-x", "160", "-y", "48")
            ui.wait(lambda s: "Remotes (" in s and "Processes (" in s and "Connections (" in s,
                    "the overview did not come back at 160x48")
            check(True, "the overview gives way to one table at 60x15 and comes back at 160x48")
            for w, h in ((60, 15), (40, 10)):
                tmux("resize-window", "-t", "tui", "-x", str(w), "-y", str(h))
                s = ui.wait(lambda s: len(s.splitlines()) <= h and "Processes (" in s,
                            "no processes table at %dx%d" % (w, h))
                check(all(len(l) <= w for l in s.splitlines()),
                      "at %dx%d every line fits the width" % (w, h))
                ui.keys("Tab")
                ui.wait_text("Connections (")
                ui.keys("Enter")
                ui.wait_text("Connection")
                ui.keys("Escape")
                ui.keys("BTab")
            tmux("resize-window", "-t", "tui", "-x", "160", "-y", "48")
            s = ui.wait(lambda s: "Processes (" in s and len(s.splitlines()) > 40,
                        "the processes view did not fill 160x48 again")
            check(True, "keys work at 60x15 and 40x10 and the view grows back")

            # Quit: q asks, q again quits, the terminal is restored.
            ui.keys("q")
            ui.wait_text("press q again")
            ui.keys("q")
            s = ui.wait_text("STTY-DONE")
            code, sane = terminal_restored(s)
            check(code == 0 and sane, "q q quits with 0 and restores the terminal (echo, icanon)")

            # Signals: SIGTERM and SIGHUP end it cleanly, a crash signal still restores.
            for sig, want in ((signal.SIGTERM, 0), (signal.SIGHUP, 0), (signal.SIGINT, 0),
                              (signal.SIGSEGV, 128 + signal.SIGSEGV)):
                name = "sig%d" % sig
                sess = Session(name, ["--read", SAMPLE, "--speed", "0"])
                sessions.append(sess)
                sess.wait_text("[END]")
                os.kill(sess.netscope_pid(), sig)
                s = sess.wait_text("STTY-DONE")
                code, sane = terminal_restored(s)
                check(code == want and sane, "%s: exit %s and the terminal restored"
                      % (signal.Signals(sig).name, code))

            # Ctrl-C quits at once.
            cc = Session("ctrlc", ["--read", SAMPLE, "--speed", "0"])
            sessions.append(cc)
            cc.wait_text("[END]")
            cc.keys("C-c")
            code, sane = terminal_restored(cc.wait_text("STTY-DONE"))
            check(code == 0 and sane, "Ctrl-C quits at once and restores the terminal")

            # DNS history in the process detail (a replay: the <UNKNOWN> row), against tshark.
            http = os.path.join(PCAPS, "packetmancer", "captures_http.cap")
            names = sorted(set(run(["tshark", "-n", "-r", http, "-Y", "dns.flags.response == 0",
                                    "-T", "fields", "-e", "dns.qry.name"]).stdout.split()))
            dns = Session("dns", ["--read", http, "--speed", "0"])
            sessions.append(dns)
            dns.wait_text("[END]")
            dns.keys("Enter")
            s = dns.wait_text("DNS queries (%d)" % len(names))
            check(all(n in s for n in names),
                  "the process detail lists the DNS queries tshark sees: %s" % names)

            # NO_COLOR: no colors, the selection in reverse video. --units bits.
            mono = Session("mono", ["--read", SAMPLE, "--speed", "0", "--units", "bits"],
                           env="NO_COLOR=1")
            sessions.append(mono)
            mono.wait_text("[END]")
            raw = mono.screen(escapes=True)
            colors = re.findall(r"\x1b\[[0-9;]*m", raw)
            check(not any(re.search(r"(^|;)(3[0-7]|4[0-7]|38|48|9[0-7])(;|m)", c[2:])
                          for c in colors), "NO_COLOR: no color escapes")
            check(any(re.search(r"(^|\[|;)7(;|m)", c) for c in colors),
                  "NO_COLOR: the selection is in reverse video")
            check("bit/s" in mono.screen(), "--units bits shows bit rates")

            # Mouse: a click selects the row under the pointer in whichever pane, the wheel
            # moves the selection. tmux passes the terminal's mouse reports on as bytes, so
            # the test types them: X10 reports (ESC [ M, button + 32, x + 33, y + 33), as
            # the pane's terminal (screen-256color, kmous=\E[M) sends them.
            mouse = Session("mouse", ["--read", SAMPLE, "--speed", "0"], env="NO_COLOR=1")
            sessions.append(mouse)
            mouse.wait_text("[END]")

            def report(button, x, y):
                mouse.type("\x1b[M" + chr(32 + button) + chr(33 + x) + chr(33 + y))

            def click(x, y):
                report(0, x, y)  # press
                report(3, x, y)  # release

            def selected_lines():
                """Table rows shown in reverse video (NO_COLOR: the selection); the header
                and footer bars are reverse video too and are left out."""
                raw = mouse.screen(escapes=True).splitlines()
                return [i for i, l in enumerate(raw)
                        if 0 < i < len(raw) - 1 and any(re.search(r"(^|\[|;)7(;|m)", c)
                               for c in re.findall(r"\x1b\[[0-9;]*m", l))]

            def wait_selected(y, what):
                for _ in range(100):
                    got = selected_lines()
                    if got == [y]:
                        return
                    time.sleep(0.1)
                fail("%s: the selected row is on line(s) %s, not %d; screen:\n%s"
                     % (what, got, y, mouse.screen()))

            s = mouse.screen()
            lines = s.splitlines()
            conn_head = next(i for i, l in enumerate(lines) if l.startswith("PROTO"))
            first_conn = conn_head + 1
            check(selected_lines() != [first_conn + 4], "before the click row 4 is not selected")
            click(10, first_conn + 4)
            wait_selected(first_conn + 4, "a click on the 5th connection row")
            check(True, "a click selects the connection row under the pointer")
            mouse.keys("Enter")
            s = mouse.wait(lambda s: re.search(r"^local\s", s, re.M) is not None,
                           "Enter did not open the connection detail")
            row_text = lines[first_conn + 4].split()
            m = re.search(r"^local\s+(\S+)", s, re.M)
            check(len(row_text) > 2 and m is not None and m.group(1) == row_text[1],
                  "Enter after the click opens the clicked connection (%s)" % row_text[1:2])
            mouse.keys("Escape")
            mouse.wait(lambda s: re.search(r"^local\s", s, re.M) is None,
                       "Esc did not close the detail")
            report(65, 10, first_conn + 4)  # wheel down: three rows
            wait_selected(first_conn + 7, "the wheel down")
            report(64, 10, first_conn + 7)  # wheel up twice: row 7 - 6
            report(64, 10, first_conn + 7)
            wait_selected(first_conn + 1, "the wheel up twice")
            report(64, 10, first_conn + 7)  # and again: stops at the first row
            wait_selected(first_conn, "the wheel up at the top")
            check(True, "the wheel moves the selection three rows a notch, and stops at the top")
            # The remotes pane (right of the processes pane): a click there moves the focus.
            head = next(i for i, l in enumerate(lines) if l.lstrip().startswith("PID"))
            x_remote = lines[head].index("REMOTE")
            check(x_remote > 40, "the remotes pane is on the right (x=%d)" % x_remote)
            click(x_remote + 1, head + 1 + 2)
            wait_selected(head + 3, "a click on the 3rd remote row")
            check(True, "a click in another pane focuses it and selects the row under the pointer")
        finally:
            for sess in sessions:
                sess.kill()
            tmux("kill-server", check_rc=False)
            shutil.rmtree(out, ignore_errors=True)
            # The server's socket file outlives it; this run's name is not used again.
            sock = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"),
                                "tmux-%d" % os.getuid(), SOCKET)
            try:
                os.unlink(sock)
            except OSError:
                pass
    print("PASS")


if __name__ == "__main__":
    main()
