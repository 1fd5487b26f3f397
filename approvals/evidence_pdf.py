"""The evidence file as PDF (reportlab, pure Python): the request, its receipts (images
embedded; a PDF receipt's first page appended with pypdf), every decision, the
timeline and the audit chain with its hashes and verdict, in the reader's language
and time zone (the caller activates both).

Text is set in a Unicode TrueType font that is embedded (DejaVu Sans when the system
has it, else reportlab's own Bitstream Vera), so `pdftotext` reads it back exactly.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from .amounts import money_text
from .selectors.evidence import Evidence
from .step_words import local

FONT, BOLD, MONO = "EvidenceSans", "EvidenceSans-Bold", "Courier"
_FONT_FILES = [
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"),
        str(Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf"),
    ),
]
_registered = False


def _register_fonts() -> None:
    global _registered
    if _registered:
        return
    for regular, bold in _FONT_FILES:
        if Path(regular).exists() and Path(bold).exists():
            pdfmetrics.registerFont(TTFont(FONT, regular))
            pdfmetrics.registerFont(TTFont(BOLD, bold))
            _registered = True
            return
    raise RuntimeError("no TrueType font for the evidence file")  # reportlab ships Vera


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=9, leading=11)
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName=BOLD, fontSize=16),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=BOLD, fontSize=12),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7, leading=9),
        "mono": ParagraphStyle("mono", parent=body, fontName=MONO, fontSize=6, leading=7.5),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _table(header: list[str], rows: list[list], widths: list[float], s) -> LongTable:
    data = [[_p(h, s["small"]) for h in header]]
    data += [[c if isinstance(c, Paragraph) else _p(c, s["small"]) for c in row] for row in rows]
    table = LongTable(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _at(moment) -> str:
    return local(moment) if moment else "—"


def _request_section(ev: Evidence, s) -> list:
    e = ev.expense
    amount = money_text(e.amount_cents, e.currency)
    if e.converted:
        amount += " (" + money_text(e.base_amount_cents, "EUR") + ")"
    facts = [
        (_("Title"), e.title),
        (_("Requester"), f"{e.requester.display_name} ({e.requester.username})"),
        (_("Amount"), amount),
        (_("Category"), e.get_category_display()),
        (_("Description"), e.description or "—"),
        (_("Status"), e.get_status_display()),
        (_("Submitted"), _at(e.created_at)),
        (_("Policy version"), e.policy_version or "—"),
    ]
    if e.fx_rate is not None:
        facts.append(
            (_("Exchange rate"), f"{formats.number_format(e.fx_rate, 6)} ({e.fx_rate_date})")
        )
    rows = [[_p(k, s["body"]), _p(v, s["body"])] for k, v in facts]
    table = LongTable(rows, colWidths=[4 * cm, 13 * cm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [Paragraph(escape(_("Request")), s["h2"]), table]


def _receipts_section(ev: Evidence, s, appended_from: int) -> list:
    out = [Paragraph(escape(_("Receipts")), s["h2"])]
    if not ev.receipts:
        out.append(_p(_("No receipt was attached."), s["body"]))
    page = appended_from
    for receipt in ev.receipts:
        out.append(_p(receipt.name, s["body"]))
        if receipt.data is None:
            out.append(_p(_("Not embedded: %(why)s") % {"why": receipt.error}, s["small"]))
        elif receipt.is_image:
            try:
                reader = ImageReader(io.BytesIO(receipt.data))
                w, h = reader.getSize()
                scale = min(16 * cm / w, 16 * cm / h, 1.0)
                out.append(Image(io.BytesIO(receipt.data), width=w * scale, height=h * scale))
            except Exception:  # noqa: BLE001 - a broken image is named, not fatal
                out.append(_p(_("Not embedded: the image cannot be read."), s["small"]))
        elif receipt.is_pdf and _first_page(receipt) is None:
            out.append(_p(_("Not embedded: the PDF cannot be read."), s["small"]))
        elif receipt.is_pdf:
            out.append(
                _p(
                    _("A PDF: its first page is appended as page %(page)s.") % {"page": page},
                    s["small"],
                )
            )
            page += 1
        else:
            out.append(_p(_("Not embedded: in the ZIP file only."), s["small"]))
        out.append(Spacer(1, 0.3 * cm))
    return out


def _decisions_section(ev: Evidence, s) -> list:
    out = [Paragraph(escape(_("Decisions")), s["h2"])]
    if not ev.decisions:
        return [*out, _p(_("No decision was made."), s["body"])]
    rows = [
        [
            d.level,
            d.action,
            d.actor + (f" ({d.actor_role})" if d.actor_role else ""),
            _at(d.at),
            d.channel or "—",
            (d.comment or "—")
            + (
                ("\n" + _("on behalf of %(name)s") % {"name": d.on_behalf_of})
                if d.on_behalf_of
                else ""
            ),
        ]
        for d in ev.decisions
    ]
    header = [_("Level"), _("Decision"), _("By"), _("Time"), _("Channel"), _("Comment")]
    return [
        *out,
        _table(header, rows, [1.2 * cm, 2.3 * cm, 3.5 * cm, 3 * cm, 1.8 * cm, 5.2 * cm], s),
    ]


def _timeline_section(ev: Evidence, s) -> list:
    out = [Paragraph(escape(_("Timeline")), s["h2"])]
    if ev.timeline.notice:
        out.append(_p(ev.timeline.notice, s["small"]))
    rows = [
        [
            _at(e.at),
            e.summary + (f"\n“{e.comment}”" if e.comment else ""),
            e.actor or "—",
            e.source_label,
        ]
        for e in ev.timeline.entries
    ]
    header = [_("Time"), _("What happened"), _("Who"), _("Source")]
    return [*out, _table(header, rows, [3 * cm, 9 * cm, 2.8 * cm, 2.2 * cm], s)]


def _chain_section(ev: Evidence, s) -> list:
    out = [Paragraph(escape(_("Audit chain")), s["h2"]), _p(ev.chain_verdict, s["body"])]
    out.append(_p(_("Newest hash (head): %(head)s") % {"head": ev.head or "—"}, s["small"]))
    rows = [
        [row.pk, _at(row.at), row.kind, _p(f"{row.prev_hash}\n{row.entry_hash}", s["mono"])]
        for row in ev.rows
    ]
    header = [_("Row"), _("Time"), _("Kind"), _("Previous hash / own hash (SHA-256)")]
    return [*out, _table(header, rows, [1.2 * cm, 3 * cm, 3 * cm, 9.8 * cm], s)]


def render(ev: Evidence, *, reader: str) -> bytes:
    """The evidence file; `reader`: who asked (printed on every page)."""
    _register_fonts()
    s = _styles()
    buffer = io.BytesIO()
    pk = ev.expense.pk
    title = _("Evidence file: request #%(pk)s") % {"pk": pk}
    footer = _("Request #%(pk)s · generated %(at)s for %(reader)s · time zone %(zone)s") % {
        "pk": pk,
        "at": local(ev.generated_at),
        "reader": reader,
        "zone": timezone.get_current_timezone_name(),
    }

    def on_page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(2 * cm, 1.2 * cm, footer)
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, str(doc.page))
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author="Approvals", leftMargin=2 * cm, rightMargin=2 * cm
    )
    # A first pass counts our pages, so the receipts section can say where PDFs go.
    story = _story(ev, s, title, appended_from=0)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    own_pages = len(PdfReader(io.BytesIO(buffer.getvalue())).pages)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author="Approvals", leftMargin=2 * cm, rightMargin=2 * cm
    )
    doc.build(
        _story(ev, s, title, appended_from=own_pages + 1), onFirstPage=on_page, onLaterPages=on_page
    )
    return _append_pdf_receipts(buffer.getvalue(), ev)


def _story(ev: Evidence, s, title: str, appended_from: int) -> list:
    return [
        Paragraph(escape(title), s["title"]),
        *_request_section(ev, s),
        *_receipts_section(ev, s, appended_from),
        *_decisions_section(ev, s),
        *_timeline_section(ev, s),
        *_chain_section(ev, s),
    ]


def _append_pdf_receipts(pdf: bytes, ev: Evidence) -> bytes:
    receipts = [r for r in ev.receipts if r.is_pdf and r.data is not None]
    if not receipts:
        return pdf
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf)))
    for receipt in receipts:
        page = _first_page(receipt)
        if page is not None:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _first_page(receipt):
    """The receipt PDF's first page, or None when it cannot be read (then the ZIP only)."""
    try:
        return PdfReader(io.BytesIO(receipt.data)).pages[0]
    except Exception:  # noqa: BLE001 - pypdf raises many kinds for a broken file
        return None
