"""``sunpy-jets detect``: jet events in a long observation, written as VOEvent XML, HEK JSON and a summary plot."""

import argparse

from ._common import add_precision_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``detect`` subcommand."""
    parser = subparsers.add_parser(
        "detect",
        help="find jet events in a long sequence of FITS frames and export them for the HEK",
        description=(
            "Scan AIA frames (FITS files, glob patterns or a directory; any length, any field of view) with sliding "
            "windows, merge the windows above the threshold into jet events, and write them into the output "
            "directory as one VOEvent XML file per event (voevents/), HEK JSON (events.json), every window's "
            "probability (windows.ecsv, positions as Tx/Ty columns) and a summary plot (summary.png). The files are written "
            "as one set: into a fresh folder that replaces an earlier run's output only when complete, with "
            "manifest.json (every file's size and SHA-256) written last."
        ),
    )
    parser.add_argument("inputs", nargs="*", metavar="FILES_OR_GLOB",
                        help="FITS files, glob patterns or a directory (or give --search)")
    parser.add_argument("--search", nargs=2, metavar=("START", "END"),
                        help="search Fido for AIA frames between two times (ISO, UTC) at the model's wavelength "
                             "and download them (into --download-dir; files already there are not fetched again)")
    parser.add_argument("--sample", type=float, metavar="SECONDS",
                        help="with --search: one frame every SECONDS (default: the model's cadence)")
    parser.add_argument("--download-dir", metavar="DIR",
                        help="with --search: folder for the files (default: sunpy's download folder)")
    parser.add_argument("--center", nargs=2, type=float, metavar=("TX", "TY"),
                        help="scan only a box around this helioprojective point (arcsec; with --width)")
    parser.add_argument("--width", type=float, metavar="ARCSEC",
                        help="side of the box around --center (default: the model's field of view)")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="directory for the results (created)")
    parser.add_argument("--weights", metavar="DIR", help="model directory written by JetClassifier.save "
                        "(default: bundled weights)")
    parser.add_argument("--threshold", type=float,
                        help="window probability that starts an event (default: the model's)")
    parser.add_argument("--stride", type=int, default=1, help="model frames between window starts (default 1)")
    parser.add_argument("--device", default="auto", help='"auto" (default), "cpu", "cuda" or "mps"')
    add_precision_option(parser)
    parser.add_argument("--method", choices=("pool", "crop"), default="pool",
                        help="tile features pooled from one pass over the frame (default) or cropped tiles (exact)")
    parser.add_argument("--institute", help="frm_institute of the HEK records (your institute)")
    parser.add_argument("--contact", help="frm_contact of the HEK records (your e-mail)")
    parser.add_argument("--test", action="store_true", help="mark the VOEvents as a trial run (event_testflag)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                        help="hide progress bars (also: SUNPY_JETS_PROGRESS=0)")
    parser.add_argument("--model-card", action="store_true", help="also print a summary of the model card")
    return parser


def _summary_figure(windows, events, first_map):
    import matplotlib

    from ..visualization import plot_events_on_map, plot_probability

    figure = matplotlib.figure.Figure(figsize=(13, 5), layout="constrained")
    plot_probability(windows, events=events, threshold=events.meta.get("threshold"),
                     axes=figure.add_subplot(1, 2, 1))
    ax = figure.add_subplot(1, 2, 2, projection=first_map)
    first_map.plot(axes=ax)
    plot_events_on_map(first_map, events, axes=ax)
    ax.set_title(f"{len(events)} jet event(s) on the first frame")
    return figure


def _flat_windows(windows):
    """The scan table with plain columns (ECSV cannot store coordinates whose frame holds an observer)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.table import QTable

    flat = QTable()
    for name in windows.colnames:
        column = windows[name]
        if isinstance(column, SkyCoord):
            flat[f"{name}_tx"] = column.Tx.to(u.arcsec)
            flat[f"{name}_ty"] = column.Ty.to(u.arcsec)
        else:
            flat[name] = column
    for key, value in windows.meta.items():
        if isinstance(value, SkyCoord):
            flat.meta[f"{key}_tx"], flat.meta[f"{key}_ty"] = value.Tx.to(u.arcsec), value.Ty.to(u.arcsec)
        elif isinstance(value, (str, int, float, bool, u.Quantity, tuple)):
            flat.meta[key] = list(value) if isinstance(value, tuple) else value
    return flat


def _print_events(events):
    if not len(events):
        print("no jet events found")
        return
    print(f"{len(events)} jet event(s):")
    print(f"{'start':<20} {'end':<20} {'peak':<20} {'prob':>5} {'Tx (arcsec)':>12} {'Ty (arcsec)':>12}")
    for row in events:
        coord = row["event_coord"]
        print(
            f"{row['event_starttime'].isot[:19]:<20} {row['event_endtime'].isot[:19]:<20} "
            f"{row['event_peaktime'].isot[:19]:<20} {float(row['event_probability']):>5.2f} "
            f"{coord.Tx.to_value('arcsec'):>12.1f} {coord.Ty.to_value('arcsec'):>12.1f}"
        )


def _write_set(staging, clf, windows, events, data, test):
    """Write the output set into ``staging`` (switched into place by the caller); return the VOEvent paths."""
    from .._atomic import atomic_path
    from ..inputs.maps import iter_maps

    voevents = events.to_voevent(staging / "voevents", test=test)
    events.write(staging / "events.json")
    with atomic_path(staging / "windows.ecsv") as tmp:
        _flat_windows(windows).write(tmp, format="ascii.ecsv", overwrite=True)
    first_map = next(iter_maps(data, need_exposure=False))
    figure = _summary_figure(windows, events, first_map)
    with atomic_path(staging / "summary.png") as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    return voevents


def _searched_files(args, clf):
    """The AIA files of ``--search START END`` at the model's wavelength (and cadence), downloaded or found."""
    import astropy.units as u
    from astropy.time import Time
    from sunpy.net import attrs as a

    from ..exceptions import InputError
    from ..inputs import fetch_frames
    from ..settings import show_progress

    try:
        start, end = Time(args.search[0]), Time(args.search[1])
    except ValueError as exc:
        raise InputError(f"--search needs two times such as 2012-07-19T07:30 2012-07-19T08:30 ({exc})") from exc
    if end <= start:
        raise InputError(f"--search: the end ({end.isot}) must be after the start ({start.isot})")
    sample = clf.config.cadence if args.sample is None else args.sample * u.s
    if sample <= 0 * u.s:
        raise InputError(f"--sample must be a positive number of seconds, not {args.sample}")
    query = (a.Time(start, end) & a.Instrument(clf.config.instrument) & a.Wavelength(clf.config.wavelength)
             & a.Sample(sample))
    return fetch_frames(query, path=args.download_dir, progress=show_progress(args.progress))


def _region(args, data):
    """``center=``/``width=`` for ``--center``/``--width``, in the frames' helioprojective frame."""
    if args.center is None:
        return {}
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from ..inputs import iter_maps

    first = next(iter_maps(data, need_exposure=False))
    center = SkyCoord(args.center[0] * u.arcsec, args.center[1] * u.arcsec, frame=first.coordinate_frame)
    return {"center": center, **({"width": args.width * u.arcsec} if args.width is not None else {})}


def run(args) -> int:
    """Run ``detect``; write the events and the summary into ``args.output`` and print where they are."""
    from .. import JetClassifier
    from .._atomic import atomic_directory, check_replaceable, recover_directory
    from .._paths import check_output_dir
    from ..exceptions import InputError
    from ..scanning.engine import events_from_scan
    from ._common import expand_inputs

    # The output folder is checked before hours of scanning, and what an earlier interrupted run left is put right.
    output = check_output_dir(args.output, "--output")
    recover_directory(output)
    check_replaceable(output)
    if bool(args.inputs) == bool(args.search):
        raise InputError("give FITS files, glob patterns or a directory, or --search START END, not both")
    if args.width is not None and args.center is None:
        raise InputError("--width needs --center TX TY")
    clf = JetClassifier.load(args.weights, device=args.device, precision=args.precision) if args.weights else JetClassifier.from_pretrained(device=args.device, precision=args.precision)
    if args.threshold is not None:
        clf.threshold = args.threshold
    data = _searched_files(args, clf) if args.search else expand_inputs(args.inputs)
    windows = clf.scan(data, stride=args.stride, method=args.method, progress=args.progress, **_region(args, data))
    events = events_from_scan(clf, windows)
    # Kept in meta, so that the VOEvents and the HEK JSON both carry them.
    if args.institute:
        events.meta["frm_institute"] = args.institute
    if args.contact:
        events.meta["frm_contact"] = args.contact

    # One consistent set: written into a fresh folder that replaces the previous run's only when complete.
    with atomic_directory(output) as staging:
        voevents = _write_set(staging, clf, windows, events, data, args.test)

    _print_events(events)
    print(f"VOEvent XML: {len(voevents)} file(s) in {output / 'voevents'}")
    print(f"HEK JSON:    {output / 'events.json'}")
    print(f"windows:     {output / 'windows.ecsv'}")
    print(f"summary:     {output / 'summary.png'}")
    print(f"manifest:    {output / 'manifest.json'} (written last: the files of this run)")
    if args.model_card:
        print(clf.card.summary())
    return 0
