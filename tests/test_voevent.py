import pytest
from lxml import etree

import astropy.units as u
from astropy.time import Time

from sunpy_jets.events import JetEvents
from sunpy_jets.exceptions import FileFormatError, HEKFormatError, InputError
from sunpy_jets.events import ARCHIVIST_FIELDS, hek_event_fields, validate_hek_record
from sunpy_jets.events import read_voevent, voevent_bytes, write_voevent

from conftest import realdata_path

NASTY = 'a<b & "c" \'d\' > é ü 日本 </Who>'


def make_events():
    start = Time(["2011-01-20T09:00:00.5", "2011-01-20T11:00:00"])
    return JetEvents.from_columns(start=start, end=start + 12 * u.min, probability=[0.93, 0.61],
                                  tx=[-245.25, 10] * u.arcsec, ty=[-1003, 20] * u.arcsec, width=300 * u.arcsec,
                                  meta={"threshold": 0.5, "event_description": NASTY,
                                        "frm_daterun": Time("2024-05-01T12:00:00")})


def test_voevent_files_well_formed_with_required_fields(tmp_path):
    events = make_events()
    paths = events.to_voevent(tmp_path, frm_institute=NASTY, frm_contact=NASTY, frm_identifier=NASTY,
                              frm_name="sunpy_jets", frm_url="https://x.org/?a=1&b=2")
    assert len(paths) == 2 and len(set(paths)) == 2
    records = events.to_hek(frm_institute=NASTY, frm_contact=NASTY, frm_identifier=NASTY,
                            frm_url="https://x.org/?a=1&b=2")
    for path, record in zip(paths, records):
        assert path.name.startswith("CJ_sunpy_jets_") and path.suffix == ".xml"
        root = etree.parse(str(path)).getroot()  # well-formed
        assert root.tag == "{http://www.ivoa.net/xml/VOEvent/v1.1}VOEvent" and root.get("version") == "1.1"
        back = read_voevent(path)
        validate_hek_record(back)
        for name in hek_event_fields("CJ"):
            if name not in ARCHIVIST_FIELDS:
                assert name in back, name
        for name in ("frm_institute", "frm_contact", "frm_identifier", "event_description", "frm_url"):
            assert back[name] == record[name]
        for name in ("event_starttime", "event_endtime", "event_peaktime", "frm_daterun", "frm_paramset",
                     "event_coordsys", "event_coordunit", "obs_observatory", "obs_channelid", "kb_archivid"):
            assert back[name] == record[name], name
        for name in ("event_coord1", "event_coord2", "event_c1error", "event_c2error", "boundbox_c1ll",
                     "boundbox_c2ll", "boundbox_c1ur", "boundbox_c2ur", "obs_meanwavel", "event_probability"):
            assert back[name] == pytest.approx(record[name], abs=1e-9), name
        assert back["event_type"] == "CJ"


def test_voevent_refuses_incomplete_and_unencodable(tmp_path):
    record = make_events().to_hek()[0]
    with pytest.raises(HEKFormatError, match="frm_contact"):
        voevent_bytes({**record, "frm_contact": ""})
    with pytest.raises(HEKFormatError, match="XML"):
        voevent_bytes({**record, "event_description": "bell \x07"})
    assert not list(tmp_path.iterdir())


def test_read_real_hek_voevents():
    record = read_voevent(realdata_path("sunpy_sunpy", "hek", "test_full_query.voevent.xml"))
    assert record["event_type"] == "FL" and record["obs_instrument"] == "AIA"
    assert record["event_coord1"] == pytest.approx(883.2)
    assert record["boundbox_c1ll"] == pytest.approx(768.0) and record["boundbox_c2ur"] == pytest.approx(537.6)
    other = read_voevent(realdata_path("sunpy_sunpy", "hek", "test_get_voevent.voevent.xml"))
    assert other["frm_name"] == "asainz" and other["event_peaktime"] == "2011-08-09T11:55:00Z"


def test_read_voevent_bad_file(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text("<voe:VOEvent")
    with pytest.raises(FileFormatError):
        read_voevent(path)


def test_write_voevent_atomic_name(tmp_path):
    record = {**make_events().to_hek()[0], "kb_archivid": "ivo://helio-informatics.org/CJ_a b:c"}
    path = write_voevent(record, tmp_path)
    # named after the IVORN plus a hash of the document, so different events never share a name (issue 20 item 1)
    assert path.name.startswith("CJ_a_b_c_") and [p.name for p in tmp_path.iterdir()] == [path.name]
    assert write_voevent(record, tmp_path) == path and len(list(tmp_path.iterdir())) == 1


def test_read_voevent_refuses_non_numbers_and_non_voevents(tmp_path):
    """Issue 20, item 12: non-numeric values and foreign XML give the package's errors, not None or ValueError."""
    path = write_voevent(make_events().to_hek()[0], tmp_path)
    text = path.read_text(encoding="utf-8")
    bad_probability = tmp_path / "p.xml"
    bad_probability.write_text(text.replace('probability="0.93"', 'probability="high"'), encoding="utf-8")
    with pytest.raises(HEKFormatError, match="probability"):
        read_voevent(bad_probability)
    bad_coord = tmp_path / "c.xml"
    bad_coord.write_text(text.replace("<C1>-245.25</C1>", "<C1>west</C1>", 1), encoding="utf-8")
    assert "west" in bad_coord.read_text(encoding="utf-8")
    with pytest.raises(HEKFormatError, match="C1 must be a number"):
        read_voevent(bad_coord)
    other = tmp_path / "o.xml"
    other.write_text("<?xml version='1.0'?><catalog><book/></catalog>", encoding="utf-8")
    with pytest.raises(FileFormatError, match="not a VOEvent"):
        read_voevent(other)


def test_to_voevent_checks_the_folder_before_writing(tmp_path):
    """Issue 20: a folder that cannot be written is refused before any file of the export is written."""
    events = JetEvents.from_columns(start=Time(["2011-01-20T09:00", "2011-01-20T10:00"]),
                                    end=Time(["2011-01-20T09:12", "2011-01-20T10:12"]), probability=[0.9, 0.8],
                                    tx=[-245, 100] * u.arcsec, ty=[-1003, 0] * u.arcsec, width=300 * u.arcsec)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    for folder in (blocker, blocker / "voevents"):
        with pytest.raises(InputError, match="VOEvent folder"):
            events.to_voevent(folder, frm_contact="me@example.org")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
