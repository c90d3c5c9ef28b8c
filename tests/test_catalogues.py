import io
import json
import warnings

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import HeliographicStonyhurst, Helioprojective

from sunpy_jets.datasets import SolarJetHunterCatalogue, read_nonjet_positions
from sunpy_jets.exceptions import CatalogueError, CatalogueWarning

from conftest import realdata_path


@pytest.fixture(scope="module")
def sjh_csv():
    return realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv")


@pytest.fixture(scope="module")
def catalogue(sjh_csv):
    return SolarJetHunterCatalogue.read(sjh_csv)


def test_real_catalogue_counts_and_types(catalogue):
    assert len(catalogue) == 883
    assert len(catalogue.events) == 229
    assert len(catalogue.bad_rows) == 0
    assert isinstance(catalogue["start_time"], Time)
    assert isinstance(catalogue["base"], SkyCoord)
    assert isinstance(catalogue["base"].frame, Helioprojective)
    assert isinstance(catalogue["base_stonyhurst"].frame, HeliographicStonyhurst)
    assert catalogue["duration"].unit == u.min
    assert catalogue["velocity"].unit == u.arcsec / u.s
    assert catalogue["max_height"].unit == u.arcsec
    # The observer is the Earth at each jet's own time, not at one reference time.
    assert catalogue["base"].observer.obstime[0] == catalogue["start_time"][0]
    assert catalogue["base"].observer.obstime[-1] == catalogue["start_time"][-1]


def test_real_catalogue_first_row_values(catalogue):
    row = catalogue[0]
    assert row["sjh_id"] == "sjh_2011-01-20T09_1"
    assert row["sol_event"] == "SOL2011-01-20T09:00:09L289C165"
    assert row["start_time"].isot == "2011-01-20T09:15:44.000"
    assert row["base"].Tx.to_value(u.arcsec) == pytest.approx(-226.577125)
    assert row["base"].Ty.to_value(u.arcsec) == pytest.approx(-956.964375)
    assert row["base_stonyhurst"].lon.to_value(u.deg) == pytest.approx(-109.0)
    assert row["duration"] == 43.6 * u.min
    assert row["max_height_lower"].to_value(u.arcsec) == pytest.approx(-36.86266215059402)
    # flags keep their leading zeros
    assert row["flag"] == "001"
    assert set(catalogue["flag"]) == {"000", "001", "010", "011", "110", "111"}


def test_real_catalogue_velocity_nan_where_missing(catalogue):
    velocity = catalogue["velocity"].value
    assert np.isnan(velocity).sum() == 512
    assert np.isnan(catalogue["velocity"][1])
    assert np.isfinite(catalogue["velocity"][0])


def test_real_catalogue_heights_in_mm(catalogue):
    heights = catalogue.to_length("max_height")
    assert heights.unit == u.Mm
    # the SJH statistics notebook gives 10.7 to 316.9 Mm with 0.73 Mm/arcsec
    assert 10 * u.Mm < heights.min() < 12 * u.Mm
    assert 300 * u.Mm < heights.max() < 330 * u.Mm
    assert catalogue.to_length("velocity").unit == u.Mm / u.s
    with pytest.raises(CatalogueError, match="not an angle"):
        catalogue.to_length("duration")


def test_catalogue_slices_keep_class_and_meta(catalogue):
    sub = catalogue[catalogue["sol_event"] == "SOL2011-01-20T22:00:09L353C074"]
    assert isinstance(sub, SolarJetHunterCatalogue)
    assert sub.events.tolist() == ["SOL2011-01-20T22:00:09L353C074"]
    assert len(sub) >= 3


def test_real_catalogue_agrees_with_notebook_sample(catalogue):
    """The 3-jet notebook transcription is not a catalogue file, but its values must match the CSV."""
    path = realdata_path("somusset_solar_jets_analysis", "sjh_jets_from_notebook_outputs.json")
    sample = json.loads(path.read_text())
    assert sample["catalogue_summary"]["n_jets"] == len(catalogue)
    assert sample["catalogue_summary"]["n_unique_SOL_events"] == len(catalogue.events)
    by_id = {str(r["sjh_id"]): r for r in catalogue}
    jet = sample["jets"][1]
    row = by_id[jet["sjh_id"]]
    assert row["start_time"].isot[:19] == jet["start"]
    assert row["base"].Tx.to_value(u.arcsec) == pytest.approx(jet["base_arcsec"][0], abs=1e-6)
    assert row["base"].Ty.to_value(u.arcsec) == pytest.approx(jet["base_arcsec"][1], abs=1e-6)
    assert by_id[sample["jets"][0]["sjh_id"]]["sol_event"] == sample["jets"][0]["SOL"]


def test_notebook_sample_is_refused_as_json_catalogue():
    path = realdata_path("somusset_solar_jets_analysis", "sjh_jets_from_notebook_outputs.json")
    with pytest.raises(CatalogueError, match="not an SJH JSON catalogue"):
        SolarJetHunterCatalogue.read(path)


def _to_json_records(catalogue):
    """The real rows in the SJH JSON export schema (Jet_class_light.json_export_list)."""
    records = []
    for r in catalogue:
        rec = {
            "id": str(r["sjh_id"]),
            "SOL": str(r["sol_event"]),
            "obs_time": r["start_time"].isot,
            "duration": float(r["duration"].value),
            "lat": float(r["base_stonyhurst"].lat.deg),
            "lon": float(r["base_stonyhurst"].lon.deg),
            "Bx": {"mean": float(r["base"].Tx.arcsec), "std": float(r["base_std_x"].value)},
            "By": {"mean": float(r["base"].Ty.arcsec), "std": float(r["base_std_y"].value)},
            "max_height": {
                "mean": float(r["max_height"].value),
                "std_upper": float(r["max_height_upper"].value),
                "std_lower": float(r["max_height_lower"].value),
            },
            "width": {"mean": float(r["width"].value), "std": float(r["width_std"].value)},
            "height": {"mean": 0.0, "std": 0.0},
            "sigma": float(r["sigma"]),
            "flag": str(r["flag"]),
            "jets": [],
        }
        if np.isfinite(r["velocity"].value):
            rec["velocity"] = float(r["velocity"].value)
        records.append(rec)
    return records


def test_json_form_matches_csv(catalogue, tmp_path):
    path = tmp_path / "Jet_clusters.json"
    path.write_text(json.dumps(_to_json_records(catalogue[:40])))
    from_json = SolarJetHunterCatalogue.read(path)
    assert len(from_json) == 40
    assert list(from_json["sjh_id"]) == list(catalogue["sjh_id"][:40])
    assert list(from_json["flag"]) == list(catalogue["flag"][:40])
    np.testing.assert_allclose(from_json["base"].Tx.arcsec, catalogue["base"][:40].Tx.arcsec)
    np.testing.assert_array_equal(np.isnan(from_json["velocity"].value), np.isnan(catalogue["velocity"][:40].value))
    assert (from_json["start_time"] == catalogue["start_time"][:40]).all()


def _corrupt_copy(sjh_csv, tmp_path):
    lines = sjh_csv.read_text().splitlines()
    header, rows = lines[0], lines[1:11]
    fields = [r.split(",") for r in rows]
    fields[1][1] = "not-a-date"  # line 3: bad time -> row left out
    fields[2][2] = "SOLgarbage"  # line 4: bad SOL event -> row left out
    fields[3][4] = "abc"  # line 5: bad base X -> row left out
    fields[4][10] = "tall"  # line 6: bad max_height (optional) -> kept with NaN
    fields[5][4] = "5000"  # line 7: off any image -> row left out
    fields[6] = fields[6][:5]  # line 8: truncated row -> row left out
    fields[7][0] = fields[0][0]  # line 9: duplicate id -> row left out
    text = "\n".join([header] + [",".join(f) for f in fields]) + "\n"
    path = tmp_path / "corrupt.csv"
    path.write_text(text)
    return path


def test_corrupted_copy_reports_bad_rows(sjh_csv, tmp_path):
    path = _corrupt_copy(sjh_csv, tmp_path)
    with pytest.warns(CatalogueWarning, match="7 problem") as record:
        cat = SolarJetHunterCatalogue.read(path)
    assert len(record) == 1
    bad = cat.bad_rows
    assert sorted(bad["row"]) == [3, 4, 5, 6, 7, 8, 9]
    reasons = {int(r["row"]): (str(r["column"]), str(r["reason"])) for r in bad}
    assert reasons[3][0] == "date"
    assert reasons[4][0] == "SOL_event"
    assert reasons[5] == ("basepoint_X", "'abc' is not a number")
    assert reasons[6][0] == "max_height"
    assert "off any AIA image" in reasons[7][1]
    assert "fields, expected 18" in reasons[8][1]
    assert "duplicate" in reasons[9][1]
    # 10 rows: 6 left out, one kept with a NaN height; none lost without a report
    assert len(cat) == 4
    kept = cat[cat["sjh_id"] == sjh_csv.read_text().splitlines()[5].split(",")[0]]
    assert np.isnan(kept["max_height"][0].value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("#sjh_ID, date\nsjh_1,2011-01-01T00:00:00\n", "lacks the column"),
    ],
)
def test_unreadable_catalogue_raises(text, match):
    with pytest.raises(CatalogueError, match=match):
        SolarJetHunterCatalogue.read(io.StringIO(text), format="csv")


def test_missing_file_and_bad_format(tmp_path):
    with pytest.raises(CatalogueError, match="cannot read catalogue"):
        SolarJetHunterCatalogue.read(tmp_path / "missing.csv")
    with pytest.raises(CatalogueError, match="unknown catalogue format"):
        SolarJetHunterCatalogue.read(io.StringIO("x"), format="xml")
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(CatalogueError, match="is not JSON"):
        SolarJetHunterCatalogue.read(tmp_path / "bad.json")


def test_clean_read_does_not_warn(catalogue, sjh_csv):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SolarJetHunterCatalogue.read(io.StringIO("\n".join(sjh_csv.read_text().splitlines()[:4])))


def test_real_nonjet_positions():
    table = read_nonjet_positions(realdata_path("sjh_catalogue", "No_jet_df.csv"))
    assert len(table) == 883
    assert len(table.meta["bad_rows"]) == 0
    assert isinstance(table["base"].frame, Helioprojective)
    assert table["start_time"][0].isot == "2011-07-08T16:00:04.000"
    assert table["base"][0].Tx == 432 * u.arcsec
    # the same base point recurs: 208 distinct HEK positions
    assert len(set(table["group"])) == 208
    assert len(set(table["label_id"])) == 883


def test_nonjet_bad_rows():
    text = "date,basepoint_X,basepoint_Y\n2011-07-08T16:00:04,432,118\nyesterday,1,2\n2011-07-08T16:00:04,x,2\n"
    with pytest.warns(CatalogueWarning, match="2 problem"):
        table = read_nonjet_positions(io.StringIO(text))
    assert len(table) == 1
    assert sorted(table.meta["bad_rows"][i]["row"] for i in range(2)) == [3, 4]
    with pytest.raises(CatalogueError, match="basepoint_Y"):
        read_nonjet_positions(io.StringIO("date,basepoint_X\n"))


@pytest.fixture
def hek_json():
    return realdata_path("somusset_solar_jets_analysis", "hek_CJ_SOL2011-01-20T09_00_09L289C165.json")


def test_real_hek_record_is_normalised(hek_json):
    from sunpy_jets.datasets import read_hek_jets
    from sunpy_jets.exceptions import HEKFormatWarning

    with pytest.warns(HEKFormatWarning, match="2 HEK record"):
        table = read_hek_jets(hek_json)
    assert len(table) == 2 and len(table.meta["bad_rows"]) == 0
    assert set(table["sol_event"]) == {"SOL2011-01-20T09:00:09L289C165"}
    assert sorted(table["wavelength"].to_value(u.AA).round(3)) == [211.0, 304.0]
    assert sorted(table["channel"]) == ["211", "304"]
    # the y corners are swapped in the archive; the table has LL below UR
    assert (table["bbox_ll"].Ty == -1119 * u.arcsec).all() and (table["bbox_ur"].Ty == -887 * u.arcsec).all()
    assert table["coord"][0].Tx == -245 * u.arcsec
    assert table["start_time"][0].isot == "2011-01-20T09:00:09.000"
    assert table["end_time"][0].isot == "2011-01-20T09:59:33.000"
    assert table["coord"].observer.obstime[0] == table["start_time"][0]


def test_hek_from_table_and_bad_records(hek_json):
    from astropy.table import Table

    from sunpy_jets.datasets import read_hek_jets
    from sunpy_jets.exceptions import HEKFormatWarning

    records = json.loads(hek_json.read_text())["result"]
    missing = dict(records[0])
    del missing["event_coord1"]
    flare = dict(records[0], event_type="FL")
    hgs = dict(records[0], event_coordsys="UTC-HGS-TOPO", event_coordunit="degrees")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_hek_jets([records[0], missing, flare, hgs])
    categories = {w.category for w in caught}
    assert categories == {HEKFormatWarning, CatalogueWarning}
    assert len(table) == 1
    bad = {b["row"]: b for b in table.meta["bad_rows"]}
    assert sorted(bad) == [1, 2, 3]
    assert "event_coord1" in bad[1]["reason"]
    assert bad[2]["column"] == "event_type"
    assert bad[3]["column"] == "event_coordsys"
    # an astropy Table of raw records (what HEKTable.raw is) reads the same
    clean = [{k: v for k, v in r.items() if v is not None} for r in records]
    keys = sorted(set.intersection(*(set(r) for r in clean)))
    with pytest.warns(HEKFormatWarning):
        from_table = read_hek_jets(Table(rows=[[r[k] for k in keys] for r in clean], names=keys))
    assert len(from_table) == 2


def test_hek_unreadable(tmp_path):
    from sunpy_jets.datasets import read_hek_jets

    (tmp_path / "x.json").write_text('{"no": "result"}')
    with pytest.raises(CatalogueError, match="cannot read HEK CJ events"):
        read_hek_jets(tmp_path / "x.json")
    with pytest.raises(CatalogueError, match="cannot read HEK CJ events"):
        read_hek_jets(42)
