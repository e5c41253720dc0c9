"""Credentials pages: the overview, a person's forms, scans and the ban-list import."""

from __future__ import annotations

import io

from facility_app.alerts.models import Alert, AlertKind
from facility_app.credentials.models import BanListEntry, StaffCertificate, TrainingRecord
from facility_app.staff.models import Staff, StaffRole
from health_records.models import StaffHealthExam
from tests.integration.management_support import count, fresh, signed_in_director, text

BANNED_ID = "11010519491231002X"


def test_overview_shows_the_certified_share_against_the_target(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    ok = build.staff(s.fac, name="陈老师")
    new = build.staff(s.fac, name="李老师", credentials=False)
    build.staff(s.fac, StaffRole.COOK, name="赵师傅", credentials=False)
    session.commit()
    page = text(client.get("/staff/credentials"))
    assert "1 / 2" in page and "(50.0 %)" in page and "Target: 80 %" in page
    row = page.split(f'data-staff-id="{new.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Missing" in row and ">No<" in row.replace(" ", "")
    row = page.split(f'data-staff-id="{ok.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Valid" in row and ">Yes<" in row.replace(" ", "")


def test_adding_a_certificate_with_a_scan_and_refusing_bad_input(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    person = build.staff(s.fac, credentials=False)
    session.commit()
    data = {
        "kind": "caregiver", "number": "BY-2026-1", "issuer": "人社局",
        "valid_from": "2025-01-01", "expires_on": "2028-01-01",
        "scan": (io.BytesIO(b"%PDF-1.4 scan"), "cert.pdf", "application/pdf"),
    }  # fmt: skip
    response = auth.post(
        f"/staff/{person.id}/certificates", data, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    fresh(session)
    cert = session.query(StaffCertificate).one()
    assert cert.scan == b"%PDF-1.4 scan" and cert.scan_type == "application/pdf"
    scan = client.get(f"/staff/certificates/{cert.id}/scan")
    assert scan.status_code == 200 and scan.data == b"%PDF-1.4 scan"
    bad = {**data, "number": "BY-2", "expires_on": "2024-12-31", "scan": (io.BytesIO(b""), "")}
    response = auth.post(
        f"/staff/{person.id}/certificates", bad, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "The certificate ends before it starts." in text(response)
    fresh(session)
    assert count(session, StaffCertificate) == 1


def test_exam_and_training_forms(client, auth, build, session):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    person = build.staff(s.fac, credentials=False)
    session.commit()
    assert (
        auth.post(
            f"/staff/{person.id}/health-exams", {"exam_date": "2026-03-01", "result": "fit"}
        ).status_code
        == 303
    )
    future = auth.post(
        f"/staff/{person.id}/health-exams", {"exam_date": "2026-03-11", "result": "fit"}
    )
    assert future.status_code == 422 and "This date is in the future." in text(future)
    assert (
        auth.post(
            f"/staff/{person.id}/training",
            {"course": "婴幼儿急救", "hours": "8", "done_on": "2026-03-02"},
        ).status_code
        == 303
    )
    negative = auth.post(
        f"/staff/{person.id}/training", {"course": "x", "hours": "-2", "done_on": "2026-03-02"}
    )
    assert negative.status_code == 422
    fresh(session)
    assert count(session, StaffHealthExam) == 1 and count(session, TrainingRecord) == 1
    page = text(client.get(f"/staff/{person.id}/credentials"))
    assert "2027-03-01" in page and "婴幼儿急救" in page


def test_ban_list_import_lists_bad_rows_and_a_banned_id_number_is_refused_with_an_alert(
    client, auth, build, session
):  # type: ignore[no-untyped-def]
    s = signed_in_director(build, session, auth)
    person = build.staff(s.fac, name="张某")
    session.commit()
    csv_bytes = f"姓名,身份证号\n张某,{BANNED_ID}\n李某,123\n".encode("gb18030")
    response = auth.post(
        "/staff/ban-list",
        {"file": (io.BytesIO(csv_bytes), "banned.csv", "text/csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = text(response)
    assert "Imported 1 people." in page and "Line 3" in page
    response = auth.post(f"/staff/{person.id}/id-number", {"id_number": BANNED_ID})
    assert response.status_code == 303
    fresh(session)
    assert session.get(Staff, person.id).id_number_hash is None
    assert count(session, BanListEntry) == 1
    alerts = session.query(Alert).filter_by(kind=AlertKind.BAN_LIST_MATCH).all()
    assert [a.params["staff_id"] for a in alerts] == [person.id]
    empty = auth.post(
        "/staff/ban-list",
        {"file": (io.BytesIO(b"x\n"), "e.csv")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 422 and "nothing was imported" in text(empty)
