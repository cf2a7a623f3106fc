"""Run simulated OCPP chargers: `python -m simulator --help` (or `scripts/simulate`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from .base import Options, SimCharger
from .charger16 import Charger16
from .charger201 import Charger201


class _ChargerFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.charger = getattr(record, "charger", "-")
        return super().format(record)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/simulate",
        description=(
            "Simulated EV chargers for trying the ocpp_central integration without hardware. "
            "Each charger boots (retrying while Pending), then runs charging sessions with "
            "rising energy and live power/current/voltage/SoC readings, and answers the "
            "central system's commands. Stop with Ctrl+C."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("-n", "--chargers", type=int, default=1, help="number of chargers")
    parser.add_argument(
        "--ocpp", choices=("1.6", "2.0.1"), default="1.6", help="OCPP version the chargers speak"
    )
    parser.add_argument(
        "-c", "--connectors", type=int, default=1, help="connectors (EVSEs) per charger"
    )
    parser.add_argument("-i", "--interval", type=int, default=10, help="meter sample interval, s")
    parser.add_argument(
        "--password", help="HTTP Basic auth password (the username is the charger id)"
    )
    parser.add_argument(
        "--url", default="ws://127.0.0.1:9000", help="central system URL (without the id)"
    )
    parser.add_argument(
        "--prefix", default="SIM", help="charger ids are <prefix>001, <prefix>002 ..."
    )
    parser.add_argument("--id-tag", default="SIMTAG01", help="RFID tag presented at each session")
    parser.add_argument("--session", type=float, default=300, help="average session length, s")
    parser.add_argument("--idle", type=float, default=60, help="average pause between sessions, s")
    parser.add_argument(
        "--max-current", type=float, default=16, help="charger's maximum current per phase, A"
    )
    parser.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: run until Ctrl+C)"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="-v: debug, -vv: every OCPP frame"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.chargers <= 1000:
        parser.error("--chargers must be 1..1000")
    if not 1 <= args.connectors <= 8:
        parser.error("--connectors must be 1..8")
    if args.interval < 1:
        parser.error("--interval must be at least 1")
    if len(args.id_tag) > 20:
        parser.error("--id-tag may have at most 20 characters")
    return args


async def run(args: argparse.Namespace) -> None:
    """Run every charger until cancelled (or --duration passes)."""
    options = Options(
        url=args.url,
        version=args.ocpp,
        connectors=args.connectors,
        interval=args.interval,
        password=args.password,
        id_tag=args.id_tag,
        session=args.session,
        idle=args.idle,
        max_current=args.max_current,
    )
    cls: type[SimCharger] = Charger16 if args.ocpp == "1.6" else Charger201
    width = max(3, len(str(args.chargers)))
    chargers = [cls(options, f"{args.prefix}{n:0{width}d}") for n in range(1, args.chargers + 1)]
    logging.getLogger("simulator").info(
        "%d OCPP %s charger(s) with %d connector(s) -> %s/<id>, ids %s..%s",
        len(chargers),
        args.ocpp,
        args.connectors,
        args.url.rstrip("/"),
        chargers[0].charger_id,
        chargers[-1].charger_id,
    )
    tasks = []
    for charger in chargers:
        tasks.append(asyncio.create_task(charger.run()))
        await asyncio.sleep(0.02)  # spread the connects a little
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(args.duration):
            await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_ChargerFormatter("%(asctime)s %(charger)s: %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    logging.getLogger("ocpp").setLevel(logging.INFO if args.verbose >= 2 else logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
