"""``sunpy-jets watch``: follow a folder where AIA files arrive and write each jet event once it has ended."""

import argparse

from ._common import add_precision_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``watch`` subcommand."""
    parser = subparsers.add_parser(
        "watch",
        help="follow a folder of arriving AIA files and write jet events as they end (near real time)",
        description=(
            "Follow DIR, where AIA 304 files arrive (from any downloader, in any order), scan each new frame once, and "
            "write every jet event once it has ended into OUTPUT/events/<id>/ (VOEvent XML, HEK JSON, PNG). The state "
            "is saved after every step (OUTPUT/state): after a restart, even a kill, the watcher goes on where it "
            "stopped. OUTPUT/status.json tells progress and lag, OUTPUT/coverage.json the data gaps; unreadable files "
            "go to OUTPUT/quarantine with the reason. Stop it with Ctrl-C or SIGTERM."
        ),
    )
    parser.add_argument("directory", metavar="DIR", help="the folder the AIA FITS files arrive in")
    parser.add_argument("--output", "-o", required=True, metavar="OUTPUT", help="folder for events, status and state")
    parser.add_argument("--state", metavar="DIR", help="folder of the saved state (default OUTPUT/state)")
    parser.add_argument("--weights", metavar="DIR", help="model directory written by JetClassifier.save "
                        "(default: bundled weights)")  # fmt: skip
    parser.add_argument("--device", default="auto", help='"auto" (default), "cpu", "cuda" or "mps"')
    add_precision_option(parser)
    group = parser.add_argument_group("detection (as for detect; fixed for the life of a state)")
    group.add_argument("--threshold", type=float, help="window probability that starts an event (default: the model's)")
    group.add_argument("--low-threshold", type=float, help="probability that keeps an event going (default 0.6 × threshold)")
    group.add_argument("--min-windows", type=int, default=1, help="fewest windows in an event (default 1)")
    group.add_argument("--merge-gap", type=float, default=0.0, metavar="SECONDS",
                       help="largest gap in time bridged between runs of windows (default 0)")
    group.add_argument("--stride", type=int, default=1, help="model frames between window starts (default 1)")
    group.add_argument("--method", choices=("pool", "crop"), default="pool", help="how tiles are encoded (default pool)")
    group = parser.add_argument_group("arrival")
    group.add_argument("--poll", type=float, default=5.0, metavar="SECONDS", help="time between polls (default 5)")
    group.add_argument("--lateness", type=float, default=60.0, metavar="SECONDS",
                       help="observation time a file may arrive behind newer ones and still be scanned (default 60)")
    group.add_argument("--max-wait", type=float, default=120.0, metavar="SECONDS",
                       help="longest a file waits for later files, in wall-clock seconds (default 120)")
    group.add_argument("--settle", type=float, default=1.0, metavar="SECONDS",
                       help="a file is read once unchanged for this long (default 1)")
    group.add_argument("--once", action="store_true", help="poll once and exit (for cron)")
    group.add_argument("--idle-exit", type=float, metavar="SECONDS", help="exit after this long without a new file")
    group.add_argument("--finish", action="store_true",
                       help="on exit, treat the observation as over: scan every waiting file, write every event")
    group.add_argument("--keep-quarantined", action="store_true",
                       help="leave unusable files in DIR (only write why in OUTPUT/quarantine)")
    group = parser.add_argument_group("output")
    group.add_argument("--hook", metavar="COMMAND",
                       help="run for each event, with its folder as last argument (and SUNPY_JETS_EVENT_DIR set)")
    group.add_argument("--no-figures", dest="figures", action="store_false", help="do not draw a PNG per event")
    group.add_argument("--institute", help="frm_institute of the HEK records (your institute)")
    group.add_argument("--contact", help="frm_contact of the HEK records (your e-mail)")
    group.add_argument("--test", action="store_true", help="mark the VOEvents as a trial run (event_testflag)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug messages")
    return parser


def run(args) -> int:
    """Run ``watch`` until stopped; return 0."""
    import astropy.units as u

    from sunpy import log

    from .. import JetClassifier
    from ..watch import Watcher

    if args.verbose:
        log.setLevel("DEBUG")
    elif log.getEffectiveLevel() > 20:
        log.setLevel("INFO")
    if args.weights:
        clf = JetClassifier.load(args.weights, device=args.device, precision=args.precision, progress=False)
    else:
        clf = JetClassifier.from_pretrained(device=args.device, precision=args.precision, progress=False)
    hek = {"test": args.test}
    hek.update({key: value for key, value in (("frm_institute", args.institute), ("frm_contact", args.contact)) if value})
    watcher = Watcher(
        args.directory, args.output, clf, state=args.state, lateness=args.lateness * u.s, max_wait=args.max_wait * u.s,
        settle=args.settle * u.s, hook=args.hook, figures=args.figures, move_quarantined=not args.keep_quarantined,
        hek_options=hek, threshold=args.threshold, low_threshold=args.low_threshold, min_windows=args.min_windows,
        merge_gap=args.merge_gap * u.s, stride=args.stride, method=args.method,
    )  # fmt: skip
    with watcher:
        idle = None if args.idle_exit is None else args.idle_exit * u.s
        watcher.run(poll=args.poll * u.s, once=args.once, idle_exit=idle, finish=args.finish)
    status = watcher.status()
    print(f"{status['frames_scanned']} frame(s) scanned, {status['events_emitted']} event(s) written to "
          f"{watcher.output / 'events'}, {status['files_quarantined']} file(s) quarantined, {status['gaps']} gap(s)")
    return 0
