"""apssh driver of `cargo xtask bench fanout`: runs one command on every
host of a list with apssh's Python API (its CLI has no per-host port), as its
CLI does: one non-critical SshJob per SshNode in an asynciojobs Scheduler
with a jobs_window, host keys checked against a known_hosts file.

usage: fanout_apssh.py HOSTFILE KEY KNOWN_HOSTS USER WINDOW COMMAND [GW_IP GW_PORT]
HOSTFILE has one `ip port` per line. With GW_IP and GW_PORT every host is
reached through that gateway (apssh's `SshNode(gateway=...)`, one gateway
node shared by all, as the latency benchmark measures). The command's output goes to stdout as
`host:line`; exits 0 only if the command exited 0 on every host, otherwise
prints each failed host and why on stderr and exits 1.
"""

import sys

from asynciojobs import Scheduler
from apssh import SshJob, SshNode, Run
from apssh.formatters import HostFormatter
from apssh.keys import import_private_key


def main():
    hostfile, key, known_hosts, user, window, command = sys.argv[1:7]
    gateway_at = sys.argv[7:9]
    with open(hostfile, encoding="utf-8") as lines:
        hosts = [line.split() for line in lines if line.strip()]
    sshkey = import_private_key(key)
    if sshkey is None:
        sys.exit(f"fanout_apssh.py: cannot read the key {key}")
    formatter = HostFormatter(verbose=False)
    scheduler = Scheduler(jobs_window=int(window))
    gateway = None
    if gateway_at:
        gateway = SshNode(gateway_at[0], port=int(gateway_at[1]), username=user,
                          keys=[sshkey], known_hosts=known_hosts,
                          formatter=formatter)
    jobs = []
    for ip, port in hosts:
        node = SshNode(ip, port=int(port), username=user, keys=[sshkey],
                       known_hosts=known_hosts, formatter=formatter,
                       gateway=gateway)
        job = SshJob(node=node, command=Run(command), critical=False)
        scheduler.add(job)
        jobs.append((f"{ip}:{port}", job))
    scheduler.run()
    failed = []
    for host, job in jobs:
        if job.raised_exception() is not None:
            failed.append(f"{host}: {job.raised_exception()!r}")
        elif job.result() != 0:
            failed.append(f"{host}: exit status {job.result()}")
    for line in failed:
        print(line, file=sys.stderr)
    sys.exit(1 if failed else 0)


main()
