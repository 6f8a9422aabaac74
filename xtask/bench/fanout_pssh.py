"""parallel-ssh driver of `cargo xtask bench fanout`: runs one command on
every host of a list with ParallelSSHClient (libssh2 based), one HostConfig
per host for its port, pool_size as the window, one connection attempt.
parallel-ssh has no host key checking (no known_hosts option).

usage: fanout_pssh.py HOSTFILE KEY USER WINDOW COMMAND
HOSTFILE has one `ip port` per line. The command's output goes to stdout as
`host: line`; exits 0 only if the command exited 0 on every host, otherwise
prints each failed host and why on stderr and exits 1.
"""

import sys

from pssh.clients import ParallelSSHClient
from pssh.config import HostConfig


def main():
    hostfile, key, user, window, command = sys.argv[1:6]
    with open(hostfile, encoding="utf-8") as lines:
        hosts = [line.split() for line in lines if line.strip()]
    client = ParallelSSHClient(
        [ip for ip, _ in hosts],
        user=user,
        pkey=key,
        pool_size=int(window),
        host_config=[HostConfig(port=int(port), user=user, private_key=key)
                     for _, port in hosts],
        allow_agent=False,
        identity_auth=False,
        num_retries=1,
        timeout=30,
    )
    output = client.run_command(command, stop_on_errors=False)
    client.join(output)
    failed = []
    for host_out in output:
        host = f"{host_out.host}:{host_out.client.port if host_out.client else '?'}"
        if host_out.exception is not None:
            failed.append(f"{host}: {host_out.exception!r}")
            continue
        for line in host_out.stdout:
            print(f"{host_out.host}: {line}")
        if host_out.exit_code != 0:
            failed.append(f"{host}: exit status {host_out.exit_code}")
    for line in failed:
        print(line, file=sys.stderr)
    sys.exit(1 if failed else 0)


main()
