"""asyncssh driver of `cargo xtask bench fanout` and `bench latency`: runs one
command on every host of a list with asyncssh's own API (the library under
apssh, without its scheduler): at most WINDOW connections at a time, host keys
checked against a known_hosts file, one connection per host.

usage: fanout_asyncssh.py HOSTFILE KEY KNOWN_HOSTS USER WINDOW COMMAND [GW_IP GW_PORT]
HOSTFILE has one `ip port` per line. With GW_IP and GW_PORT, one connection to
that gateway is opened first and every host is reached through it
(`asyncssh.connect(..., tunnel=gateway)`). The command's output goes to stdout
as `ip:port: line`; exits 0 only if the command exited 0 on every host,
otherwise prints each failed host and why on stderr and exits 1.
"""

import asyncio
import sys

import asyncssh


async def one(ip, port, options, tunnel, window, command, failed):
    async with window:
        try:
            async with asyncssh.connect(ip, int(port), tunnel=tunnel,
                                        **options) as conn:
                result = await conn.run(command, check=False)
        except (OSError, asyncssh.Error) as exc:
            failed.append(f"{ip}:{port}: {exc!r}")
            return
    for line in (result.stdout or "").splitlines():
        print(f"{ip}:{port}: {line}")
    if result.exit_status != 0:
        failed.append(f"{ip}:{port}: exit status {result.exit_status}")


async def main():
    hostfile, key, known_hosts, user, window, command = sys.argv[1:7]
    gateway_at = sys.argv[7:9]
    with open(hostfile, encoding="utf-8") as lines:
        hosts = [line.split() for line in lines if line.strip()]
    options = {"username": user, "client_keys": [key],
               "known_hosts": known_hosts, "agent_path": None,
               "connect_timeout": 30}
    gateway = None
    if gateway_at:
        gateway = await asyncssh.connect(gateway_at[0], int(gateway_at[1]),
                                         **options)
    failed = []
    limit = asyncio.Semaphore(int(window))
    await asyncio.gather(*(one(ip, port, options, gateway, limit, command, failed)
                           for ip, port in hosts))
    if gateway is not None:
        gateway.close()
        await gateway.wait_closed()
    for line in failed:
        print(line, file=sys.stderr)
    sys.exit(1 if failed else 0)


asyncio.run(main())
