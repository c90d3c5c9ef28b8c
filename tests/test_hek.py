import json
import warnings

import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.net.hek import HEKTable
from sunpy.net.hek2vso import translate_results_to_query

from sunpy_jets.events import JetEvents
from sunpy_jets.exceptions import FileFormatError, HEKFormatError, HEKFormatWarning, InputTypeError
from sunpy_jets.events import (
    ARCHIVIST_FIELDS,
    hek_event_fields,
    load_hek_records,
    normalize_hek_record,
    validate_hek_record,
)

from conftest import realdata_path

CJ_FILE = ("somusset_solar_jets_analysis", "hek_CJ_SOL2011-01-20T09_00_09L289C165.json")


def make_events(n=2, **meta):
    start = Time("2011-01-20T09:00:00.123456") + [0, 70][:n] * u.min
    return JetEvents.from_columns(start=start, end=start + 12 * u.min, probability=[0.91, 0.7][:n],
                                  tx=[-245.5, 300][:n] * u.arcsec, ty=[-1003, 200.25][:n] * u.arcsec,
                                  width=300 * u.arcsec, height=200 * u.arcsec,
                                  meta={"threshold": 0.5, "model_sha256": "ab" * 32, **meta})


def test_required_fields_come_from_sunpy():
    required = hek_event_fields("CJ")
    assert len(required) == 30
    assert {"event_coordunit", "frm_humanflag", "obs_wavelunit", *ARCHIVIST_FIELDS} <= set(required)
    with pytest.raises(HEKFormatError, match="unknown HEK event type"):
        hek_event_fields("XX")


def test_to_hek_has_every_required_cj_field():
    records = make_events().to_hek(frm_institute="EPFL", frm_contact="a@b.org", test=True)
    assert len(records) == 2
    for index, record in enumerate(records):
        validate_hek_record(record, index=index)  # raises on a missing/placeholder value
        for name in hek_event_fields("CJ"):
            assert name in record
        assert record["event_type"] == "CJ"
        assert record["event_coordsys"] == "UTC-HPC-TOPO" and record["event_coordunit"] == "arcsec"
        assert record["boundbox_c1ll"] < record["boundbox_c1ur"]
        assert record["boundbox_c2ll"] < record["boundbox_c2ur"]
        assert record["event_c1error"] == 150 and record["event_c2error"] == 100
        assert record["frm_humanflag"] == "false" and record["event_testflag"] == "true"
        assert "threshold=0.5" in record["frm_paramset"] and "model_sha256=" + "ab" * 32 in record["frm_paramset"]
        assert record["obs_meanwavel"] == 304 and record["obs_wavelunit"] == "angstrom"
        assert record["kb_archivist"] == "" and record["kb_archivid"].startswith("ivo://helio-informatics.org/CJ_")
    assert records[0]["event_probability"] == 0.91
    assert records[0]["event_starttime"] == "2011-01-20T09:00:00.123"
    assert records[0]["frm_institute"] == "EPFL"


def test_validate_rejects_placeholders_and_inverted_box():
    record = make_events(1).to_hek()[0]
    with pytest.raises(HEKFormatError, match="frm_url"):
        validate_hek_record({**record, "frm_url": "n/a"}, index=3)
    with pytest.raises(HEKFormatError, match="boundbox_c1ll"):
        validate_hek_record({**record, "boundbox_c1ll": 1e4})


def test_json_round_trip_is_lossless(tmp_path):
    events = make_events()
    path = events.write(tmp_path / "events.json")
    content = json.loads(path.read_text())
    assert isinstance(content["result"], list) and len(content["result"]) == 2
    again = JetEvents.read(path)
    assert again.table.colnames == events.table.colnames
    for name in ("event_starttime", "event_endtime", "event_peaktime"):
        assert (again[name] == events[name]).all()
    assert (again["event_probability"] == events["event_probability"]).all()
    assert u.allclose(again["event_coord"].Tx, events["event_coord"].Tx, atol=0 * u.arcsec)
    assert u.allclose(again["event_coord"].Ty, events["event_coord"].Ty, atol=0 * u.arcsec)
    for name in ("boundbox_c1ll", "boundbox_c2ur", "event_c1error"):
        assert (again[name] == events[name]).all()
    assert again.meta.keys() == events.meta.keys()
    assert again.meta["model_sha256"] == "ab" * 32 and again.meta["obs_meanwavel"] == 304 * u.AA
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_json_round_trip_of_imported_events(tmp_path):
    with pytest.warns(HEKFormatWarning):
        events = JetEvents.from_hek(realdata_path(*CJ_FILE))
    again = JetEvents.read(events.write(tmp_path / "cj.json"))
    assert list(again["frm_name"]) == list(events["frm_name"])
    assert list(again["SOL_standard"]) == list(events["SOL_standard"])
    assert again["event_probability"].mask.all()
    assert u.allclose(again["obs_meanwavel"], events["obs_meanwavel"])


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "not JSON"),
        ('{"results": []}', "'result'"),
        ('{"result": [1]}', "record 0"),
        ('{"result": [{"event_type": "CJ"}]}', "record 0: required field 'event_starttime'"),
    ],
)
def test_read_bad_files(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(HEKFormatError, match=match):
        JetEvents.read(path)


def test_read_wrong_type_names_field_and_index(tmp_path):
    records = make_events().to_hek()
    records[1]["event_coord1"] = "east"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"result": records}))
    with pytest.raises(HEKFormatError, match="record 1: 'event_coord1' must be a number"):
        JetEvents.read(path)
    with pytest.raises(FileFormatError):
        JetEvents.read(tmp_path / "missing.json")


def test_to_hektable_parsed_by_sunpy():
    table = make_events().to_hektable()
    assert isinstance(table, HEKTable)
    assert isinstance(table["event_starttime"], Time) and isinstance(table["event_peaktime"], Time)
    # sunpy's parser gives one SkyCoord per row (each has its own obstime)
    assert isinstance(table["event_coord"][0], SkyCoord)
    assert table["event_coord"][1].Tx == 300 * u.arcsec
    assert isinstance(table["boundbox_c1ll"], u.Quantity) and table["boundbox_c1ll"].unit == u.arcsec
    assert table["obs_meanwavel"].unit.physical_type == "length"
    query = translate_results_to_query(table[0])
    assert any(type(attr).__name__ == "Wavelength" for attr in query[0])
    assert str(table[0].vso_time.start.isot).startswith("2011-01-20T09:00:00")


def test_real_cj_record_normalised():
    path = realdata_path(*CJ_FILE)
    records = load_hek_records(path)
    assert len(records) == 2
    with pytest.warns(HEKFormatWarning, match="swapped boundbox_c2ll/boundbox_c2ur.*cm to angstrom"):
        clean = normalize_hek_record(records[0], index=0)
    assert clean["boundbox_c2ll"] == -1119 and clean["boundbox_c2ur"] == -887
    assert clean["obs_meanwavel"] == pytest.approx(304) and clean["obs_wavelunit"] == "angstrom"
    assert clean["event_starttime"] == "2011-01-20T09:00:09.000"
    assert clean["frm_humanflag"] is True and clean["event_peaktime"] is None


def test_from_hek_real_cj():
    with pytest.warns(HEKFormatWarning):
        events = JetEvents.from_hek(realdata_path(*CJ_FILE))
    assert len(events) == 2
    assert set(events["obs_channelid"]) == {"304", "211"}
    assert u.allclose(sorted(events["obs_meanwavel"].to_value(u.AA)), [211, 304])
    assert (events["boundbox_c2ll"] < events["boundbox_c2ur"]).all()
    assert events["event_probability"].mask.all()
    assert set(events["SOL_standard"]) == {"SOL2011-01-20T09:00:09L289C165"}
    assert events[0]["kb_archivid"].startswith("ivo://helio-informatics.org/CJ")
    # re-export keeps the annotator's provenance and passes the CJ checks
    record = events.to_hek()[0]
    assert record["frm_name"] == "asainz" and record["frm_humanflag"] == "true"
    # the annotation tool wrote the placeholder "n/a" for these two required fields
    validate_hek_record(record, skip=(*ARCHIVIST_FIELDS, "frm_paramset", "frm_url"))
    with pytest.raises(HEKFormatError, match="frm_paramset"):
        validate_hek_record(record)


def test_real_flare_and_ar_responses():
    records = load_hek_records(realdata_path("sunpy_sunpy", "hek", "test_hek_client.response.json"))
    assert len(records) == 19
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HEKFormatWarning)
        clean = [normalize_hek_record(record, index=i) for i, record in enumerate(records)]
    assert all(r["obs_wavelunit"] == "angstrom" for r in clean)
    assert all(r["boundbox_c1ll"] <= r["boundbox_c1ur"] for r in clean)
    assert load_hek_records(realdata_path("sunpy_sunpy", "hek", "test_hek_empty_search_result.response.json")) == []
    hgs = load_hek_records(realdata_path("sunpy_sunpy", "hek", "test_query_multiple_operators.response.json"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HEKFormatWarning)
        # flare records are not jets (issue 19 item 2); as CJ records their HGS coordinates are refused
        with pytest.raises(HEKFormatError, match="none of the 7 HEK record.*7 FL"):
            JetEvents.from_hek(hgs)
        with pytest.raises(HEKFormatError, match="record 0: coordinates are UTC-HGS-TOPO"):
            JetEvents.from_hek([{**record, "event_type": "CJ"} for record in hgs])


def test_load_from_hektable_uses_raw():
    table = make_events().to_hektable()
    records = load_hek_records(table)
    assert records[0]["event_coord1"] == -245.5 and records[0]["event_type"] == "CJ"
    with pytest.raises(InputTypeError):
        load_hek_records(42)


def test_normalize_rejects_bad_records():
    record = make_events(1).to_hek()[0]
    with pytest.raises(HEKFormatError, match="'event_probability'"):
        normalize_hek_record({**record, "event_probability": 2.0})
    with pytest.raises(HEKFormatError, match="'event_starttime'"):
        normalize_hek_record({**record, "event_starttime": "yesterday"})
    with pytest.raises(HEKFormatError, match="obs_wavelunit"):
        normalize_hek_record({**record, "obs_wavelunit": "parsec per kg"})


@pytest.mark.parametrize("reader", ["read", "from_hek", "load_hek_records"])
def test_deeply_nested_hek_json_is_refused(tmp_path, reader):
    """Issue 20, item 12: JSON nested thousands deep is a HEKFormatError, not a RecursionError."""
    path = tmp_path / "deep.json"
    path.write_text('{"result": ' + "[" * 100_000 + "]" * 100_000 + "}")
    function = load_hek_records if reader == "load_hek_records" else getattr(JetEvents, reader)
    with pytest.raises(HEKFormatError, match="nested too deeply"):
        function(path)
