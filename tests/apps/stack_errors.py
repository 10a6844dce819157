#!/usr/bin/env python3
"""sluice-stack's configuration and command-line errors (no root needed).

Each bad input must exit 2 and name the file, line and column, or the
option, of what is wrong; a good configuration with every option of the
stack (graph, graph-THREAD, steer-transit, steer-rules, punt, channels)
must pass the checks (--show: the kernel tables, no lport opened).

Usage: stack_errors.py SLUICE_STACK
"""
import os
import subprocess
import sys
import tempfile

STACK = os.path.abspath(sys.argv[1])

LPORTS = ('  "lports": {"r0:0": {"pmd": "net_af_xdp", "umem": "u"}},\n'
          '  "umems": {"u": {"bufcnt": 4, "regions": [4]}},\n'
          '  "threads": {"stack:0": {"lports": ["r0:0"]}},\n')

BAD = {
    # name: (options text, expected in stderr)
    "unknown_option": ('{"grap": ["eth_rx"]}',
                       "unknown_option.jsonc:6:6: options.grap: unknown"),
    "other_thread": ('{"graph-stack:7": ["eth_rx"]}',
                     'other_thread.jsonc:6:6: options."graph-stack:7": '
                     "unknown"),
    "bad_rule": ('{"steer-rules": ["udp port 7 xsk", "udp port 99999 xsk"]}',
                 "bad_rule.jsonc:6:40: options.steer-rules[1]: 'udp port "
                 "99999 xsk' is not a steering rule"),
    "channels_type": ('{"channels": 7}', "channels_type.jsonc:6:"),
    "punt_type": ('{"punt": "yes"}',
                  "punt_type.jsonc:6:14: options.punt: expected true or "
                  "false"),
}

GOOD = ('{"graph": ["eth_rx"], "graph-stack:0": ["eth_rx", "udp_output"],'
        ' "steer-transit": false, "steer-rules": ["arp pass"],'
        ' "punt": false, "channels": ["udp4-listen:7"]}')


def run(*args):
    return subprocess.run([STACK] + list(args), capture_output=True,
                          text=True, timeout=60)


def write(d, name, options):
    path = os.path.join(d, name + ".jsonc")
    with open(path, "w") as f:
        f.write("{\n" + LPORTS + '  "options":\n    ' + options + "\n}\n")
    return path


def main():
    failed = 0
    with tempfile.TemporaryDirectory(prefix="slse-") as d:
        for name, (options, want) in BAD.items():
            r = run("-c", write(d, name, options), "--show")
            ok = r.returncode == 2 and want in r.stderr
            print("%s: exit %d, %s" % (name, r.returncode,
                                       "names it" if ok else
                                       "expected '%s' in: %s" %
                                       (want, r.stderr.strip())))
            failed += not ok
        for args, want in ((["--seconds", "x", "-c", "f"], "not a number"),
                           ([], "usage")):
            r = run(*args)
            ok = r.returncode == 2 and want in r.stderr
            print("%s: exit %d%s" % (" ".join(args) or "(no arguments)",
                                     r.returncode,
                                     "" if ok else ", stderr: " + r.stderr))
            failed += not ok
        r = run("-c", write(d, "good", GOOD), "--show")
        ok = r.returncode == 0 and "links:" in r.stdout
        print("every option: exit %d%s" % (r.returncode, "" if ok else
                                           ", stderr: " + r.stderr))
        failed += not ok
    if failed:
        print("FAIL: %d cases" % failed, file=sys.stderr)
        sys.exit(1)
    print("stack_errors: all cases passed")


main()
