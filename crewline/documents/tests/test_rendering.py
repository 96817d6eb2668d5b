"""One Typst pipeline for job reports, quotes and invoices: the organization's paper, the same
embedded fonts, and a file guard that lets a document read only its own files."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from crewline.billing import services as billing
from crewline.billing.pdf import invoice_pdf
from crewline.core.models import Paper
from crewline.documents.rendering import RenderError, render_pdf
from crewline.documents.reports import render_job_report

# Points (1/72 inch): 8.5 x 11 in and 210 x 297 mm.
SIZES = {Paper.LETTER: (612.0, 792.0), Paper.A4: (595.28, 841.89)}


def page_sizes(content: bytes) -> set[tuple[float, float]]:
    return {(round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2))
            for page in PdfReader(io.BytesIO(content)).pages}


def fonts(content: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


@pytest.fixture
def invoice(org, owner, completed_job):
    billing.default_labor_rate_set(organization=org, hourly_rate=Decimal("80"), by=owner)
    return billing.invoice_draft_from_work_order(work_order=completed_job, by=owner)


@pytest.mark.parametrize("paper", [Paper.LETTER, Paper.A4])
def test_it_prints_reports_and_invoices_on_the_organizations_paper(org, completed_job,
                                                                  invoice, paper):
    org.paper = paper
    org.save(update_fields=["paper"])
    completed_job.organization.refresh_from_db()
    invoice.organization.refresh_from_db()
    assert page_sizes(render_job_report(completed_job, version=1)) == {SIZES[paper]}
    assert page_sizes(invoice_pdf(invoice)) == {SIZES[paper]}


def test_it_uses_the_same_embedded_fonts_for_reports_and_invoices(completed_job, invoice):
    report_fonts = fonts(render_job_report(completed_job, version=1))
    invoice_fonts = fonts(invoice_pdf(invoice))
    assert report_fonts and invoice_fonts
    assert all(name.startswith("LibertinusSerif") for name in report_fonts | invoice_fonts)


@pytest.mark.parametrize("name", ["../escape.txt", "photos/../../escape.txt", "/etc/escape",
                                  "data.json", "other.typ"])
def test_the_file_guard_refuses_a_name_outside_the_documents_files(name):
    with pytest.raises(ValueError, match="outside|taken"):
        render_pdf("job_report.typ", {}, {name: b"x"}, paper=Paper.A4)


@pytest.mark.parametrize("path", ["../../../../../../etc/hostname", "/etc/hostname",
                                  "/not-given.txt"])
def test_the_file_guard_lets_a_template_read_only_the_documents_files(tmp_path, path):
    template = tmp_path / "reader.typ"
    template.write_text('#let d = json("data.json")\n#read(d.path)\n', encoding="utf-8")
    pdf = render_pdf(template, {"path": "given.txt"}, {"given.txt": b"named by the document"},
                     paper=Paper.A4)
    assert "named by the document" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    with pytest.raises(RenderError):
        render_pdf(template, {"path": path}, {"given.txt": b"x"}, paper=Paper.A4)


def test_it_refuses_an_unknown_paper_size():
    with pytest.raises(ValueError, match="paper"):
        render_pdf("job_report.typ", {}, paper="a3")
