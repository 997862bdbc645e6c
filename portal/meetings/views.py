"""Meetings, conclusion notices and their items: pages for the public and for staff."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Role
from portal.accounts.services import staff_required
from portal.extensions import db
from portal.meetings import services
from portal.meetings.forms import (
    BulkForm,
    ImportForm,
    ItemUpdateForm,
    LinkForm,
    MeetingForm,
    ThemeForm,
)
from portal.meetings.models import (
    ConclusionNotice,
    ItemStatus,
    Meeting,
    MeetingKind,
    NoticeItem,
)
from portal.petitions import services as petitions
from portal.petitions.models import Category, Competence, Petition, Status
from portal.petitions.views import category_choices
from portal.units.models import Area
from portal.units.services import active_units, area_choices, current_ward, current_ward_id
from portal.web import is_htmx, render, see_other

bp = Blueprint("meetings", __name__)

EDITORS = (Role.WARD_STAFF, Role.ADMIN)


def _meeting(meeting_id: int) -> Meeting:
    """This ward's meeting; another ward's is not found (404), like one that never was."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.ward_id != current_ward_id():
        abort(404)
    return meeting


def _notice(notice_id: int) -> ConclusionNotice:
    notice = db.session.get(ConclusionNotice, notice_id)
    if notice is None or notice.ward_id != current_ward_id():
        abort(404)
    return notice


def _item(item_id: int) -> NoticeItem:
    item = db.session.get(NoticeItem, item_id)
    if item is None or item.notice.ward_id != current_ward_id():
        abort(404)
    return item


def _attach(form, error: services.MeetingError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        form.form_errors.append(str(error.message))
    else:
        field.errors = [*field.errors, str(error.message)]


# --- meetings ---------------------------------------------------------------------------


@bp.route("/hoi-nghi/")
def index():
    return render(
        "meetings/index.html",
        meetings=services.meetings(current_ward()),
        repeated=services.repeatedly_raised(),
        items_again=services.open_items_raised_again(),
    )


def _meeting_form(meeting: Meeting | None = None) -> MeetingForm:
    form = MeetingForm(obj=meeting)
    form.kind.choices = [(k.value, k.label) for k in MeetingKind]
    return form


def _save_meeting_form(form: MeetingForm, meeting: Meeting | None):
    data = services.MeetingData(
        kind=MeetingKind(form.kind.data),
        title=form.title.data,
        held_on=form.held_on.data,
        place=form.place.data,
        chair=form.chair.data,
        participants=form.participants.data,
        minutes=form.minutes.data,
    )
    return services.save_meeting(current_ward(), current_user, data, meeting)


@bp.route("/hoi-nghi/moi", methods=["GET", "POST"])
@staff_required(*EDITORS)
def new_meeting():
    form = _meeting_form()
    if form.validate_on_submit():
        meeting = _save_meeting_form(form, None)
        db.session.commit()
        flash(_("Đã tạo hội nghị."), "success")
        return see_other(url_for("meetings.page", meeting_id=meeting.id))
    status = 422 if request.method == "POST" else 200
    return render("meetings/form.html", form=form, meeting=None, status=status)


@bp.route("/hoi-nghi/<int:meeting_id>/sua", methods=["GET", "POST"])
@staff_required(*EDITORS)
def edit_meeting(meeting_id: int):
    meeting = _meeting(meeting_id)
    form = _meeting_form(meeting)
    if request.method == "GET":
        form.kind.data = meeting.kind.value
    if form.validate_on_submit():
        _save_meeting_form(form, meeting)
        db.session.commit()
        flash(_("Đã lưu hội nghị."), "success")
        return see_other(url_for("meetings.page", meeting_id=meeting.id))
    status = 422 if request.method == "POST" else 200
    return render("meetings/form.html", form=form, meeting=meeting, status=status)


@bp.route("/hoi-nghi/<int:meeting_id>")
def page(meeting_id: int):
    meeting = _meeting(meeting_id)
    return render("meetings/page.html", meeting=meeting)


def _bulk_form() -> BulkForm:
    form = BulkForm()
    _bulk_choices(form)
    return form


@bp.route("/hoi-nghi/<int:meeting_id>/kien-nghi", methods=["GET", "POST"])
@staff_required(*EDITORS)
def bulk(meeting_id: int):
    """Enter many petitions raised at a meeting at once: all saved, or none."""
    meeting = _meeting(meeting_id)
    form = _bulk_form()
    row_errors: dict[int, list[str]] = {}
    if request.method == "POST" and request.form.get("op") == "add":
        form.rows.append_entry()
        _bulk_choices(form)
    elif form.validate_on_submit():
        rows = [
            services.RaisedRow(
                text=row.text.data or "",
                raised_by=row.raised_by.data,
                title=row.title.data,
                category=db.session.get(Category, row.category_id.data)
                if row.category_id.data
                else None,
                area=db.session.get(Area, row.area_id.data) if row.area_id.data else None,
            )
            for row in form.rows
        ]
        try:
            created = services.file_raised_at_meeting(meeting, current_user, rows)
            db.session.commit()
        except services.RowErrors as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            filled = [
                i
                for i, r in enumerate(form.rows)
                if (r.text.data or "").strip() or r.raised_by.data or r.title.data
            ]
            row_errors = {filled[i]: msgs for i, msgs in error.errors.items()}
        except services.MeetingError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
        else:
            flash(_("Đã lưu %(n)d kiến nghị của hội nghị.", n=len(created)), "success")
            return see_other(url_for("meetings.page", meeting_id=meeting.id))
    status = 422 if request.method == "POST" and request.form.get("op") != "add" else 200
    return render(
        "meetings/bulk.html", meeting=meeting, form=form, row_errors=row_errors, status=status
    )


def _bulk_choices(form: BulkForm) -> None:
    areas = area_choices(current_ward())
    categories = category_choices()
    for row in form.rows:
        row.area_id.choices = areas
        row.category_id.choices = categories


# --- notices: import, review, save ------------------------------------------------------


def _import_form() -> ImportForm:
    form = ImportForm()
    form.meeting_id.choices = [
        (m.id, f"{m.held_on:%d/%m/%Y} · {m.title}") for m in services.meetings(current_ward())
    ]
    return form


@bp.route("/hoi-nghi/thong-bao/nhap", methods=["GET", "POST"])
@staff_required(*EDITORS)
def import_notice():
    from portal.meetings import documents

    form = _import_form()
    if request.method == "GET" and request.args.get("meeting"):
        form.meeting_id.data = request.args.get("meeting", type=int)
    if form.validate_on_submit():
        upload = request.files.get(form.document.name)
        text, filename = form.text.data or "", None
        try:
            if upload and upload.filename:
                filename = upload.filename
                text = documents.read_text(upload.read(), filename)
            if not text.strip():
                raise services.MeetingError(
                    _("Hãy dán nội dung thông báo hoặc chọn tệp .docx / .txt."), field="text"
                )
            draft = services.draft_from_text(text, filename)
        except documents.DocumentError as error:
            form.document.errors = [*form.document.errors, str(error.message)]
        except services.MeetingError as error:
            _attach(form, error)
        else:
            return _review(draft, form.meeting_id.data, status=200)
    status = 422 if request.method == "POST" else 200
    return render("meetings/import.html", form=form, status=status)


def _review(draft, meeting_id, *, errors=None, status=200):
    meetings = services.meetings(current_ward())
    return render(
        "meetings/review.html",
        fragment="meetings/_review.html",
        targets=["review"],
        draft=draft,
        draft_json=json.dumps(draft.to_dict(), ensure_ascii=False),
        meeting_id=meeting_id,
        meetings=meetings,
        units=active_units(),
        errors=errors or {},
        status=status,
    )


def _draft_from_request() -> services.Draft:
    try:
        data = json.loads(request.form.get("draft", ""))
        draft = services.Draft.from_dict(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        abort(400)  # not a draft this screen made (any JSON can be posted)
    for name in ("number", "issued_on", "issuer", "title", "meeting_date"):
        if name in request.form:
            setattr(draft, name, request.form[name].strip() or None)
    draft.title = draft.title or ""
    for index, item in enumerate(draft.items):
        prefix = f"items-{index}-"
        item.ref = request.form.get(prefix + "ref", item.ref).strip()
        new_text = request.form.get(prefix + "text", item.text).replace("\r\n", "\n").strip()
        for j, unit in enumerate(item.units):
            unit.choice = request.form.get(f"{prefix}unit-{j}-choice", unit.choice)
            unit.role = request.form.get(f"{prefix}unit-{j}-role", unit.role)
        if new_text != item.text:
            item.text = new_text
            draft.items[index] = services.reanalyse(item)
    return draft


def _check_unit_choices(draft: services.Draft) -> None:
    """A unit picked on the review screen is one of this ward's or of no ward (404 for
    another ward's: the screen never offers it)."""
    allowed = {unit.id for unit in active_units()}
    for item in draft.items:
        for unit in item.units:
            if unit.choice and unit.choice.isdecimal() and int(unit.choice) not in allowed:
                abort(404)


@bp.route("/hoi-nghi/thong-bao/xem-lai", methods=["POST"])
@staff_required(*EDITORS)
def review_notice():
    """The review screen: edit, split, merge or drop items, pick units, then save."""
    draft = _draft_from_request()
    meeting_id = request.form.get("meeting_id", type=int)
    op, _sep, arg = request.form.get("op", "update").partition(":")
    index = int(arg) if arg.isdecimal() and int(arg) < len(draft.items) else None
    errors: dict[str, str] = {}
    try:
        if op == "split" and index is not None:
            services.split_item(draft, index)
        elif op == "merge" and index is not None:
            services.merge_with_previous(draft, index)
        elif op == "delete" and index is not None:
            del draft.items[index]
        elif op == "save":
            for i, item in enumerate(draft.items):
                for j, unit in enumerate(item.units):
                    if not unit.choice:
                        errors[f"{i}-{j}"] = _(
                            "Chọn đơn vị tương ứng, tạo đơn vị mới hoặc bỏ qua tên này."
                        )
            if errors:
                raise services.MeetingError(
                    _("Còn tên đơn vị chưa được xác định; thông báo chưa được lưu.")
                )
            meeting = _meeting(meeting_id) if meeting_id else None
            _check_unit_choices(draft)
            notice = services.save_notice(draft, current_user, meeting, ward=current_ward())
            db.session.commit()
            flash(_("Đã lưu thông báo với %(n)d mục.", n=len(notice.items)), "success")
            return see_other(url_for("meetings.notice_page", notice_id=notice.id))
    except services.MeetingError as error:
        db.session.rollback()
        errors["form"] = str(error.message)
        return _review(draft, meeting_id, errors=errors, status=422)
    return _review(draft, meeting_id)


@bp.route("/hoi-nghi/thong-bao/<int:notice_id>")
def notice_page(notice_id: int):
    return render("meetings/notice.html", notice=_notice(notice_id))


# --- items ------------------------------------------------------------------------------


def _item_form(item: NoticeItem, formdata=None) -> ItemUpdateForm:
    form = ItemUpdateForm(formdata=formdata, obj=None if formdata else item)
    form.status.choices = [(s.value, s.label) for s in ItemStatus]
    form.competence.choices = [(c.value, c.label) for c in Competence]
    if formdata is None:
        form.status.data = item.status.value
        form.competence.data = item.competence.value
        form.note.data = ""
    return form


def _item_page(item: NoticeItem, *, form=None, link_form=None, status=200):
    can_edit = current_user.is_authenticated and current_user.role in EDITORS
    return render(
        "meetings/item.html",
        fragment="meetings/_item_petitions.html",
        targets=["item-petitions"],
        item=item,
        form=form or (_item_form(item) if can_edit else None),
        # An empty form, not one that Flask-WTF binds to this POST (a link just made).
        link_form=link_form or (LinkForm(formdata=None) if can_edit else None),
        can_edit=can_edit,
        status=status,
    )


@bp.route("/hoi-nghi/muc/<int:item_id>")
def item_page(item_id: int):
    return _item_page(_item(item_id))


@bp.route("/hoi-nghi/muc/<int:item_id>/cap-nhat", methods=["POST"])
@staff_required(*EDITORS)
def update_item(item_id: int):
    item = _item(item_id)
    form = _item_form(item, formdata=request.form)
    if form.validate():
        update = services.ItemUpdate(
            status=ItemStatus(form.status.data),
            progress=form.progress.data,
            note=form.note.data,
            roadmap=form.roadmap.data,
            expected_on=form.expected_on.data,
            responsible_person=form.responsible_person.data,
            competence=Competence(form.competence.data),
            forwarded_to=form.forwarded_to.data,
            higher_reply=form.higher_reply.data,
            outcome_note=form.outcome_note.data,
            recommendation=form.recommendation.data,
        )
        try:
            services.update_item(item, current_user, update)
            db.session.commit()
        except services.MeetingError as error:
            db.session.rollback()
            _attach(form, error)
        else:
            flash(_("Đã cập nhật mục %(ref)s.", ref=item.ref), "success")
            return see_other(url_for("meetings.item_page", item_id=item.id))
    return _item_page(item, form=form, status=422)


@bp.route("/hoi-nghi/muc/<int:item_id>/lien-ket", methods=["POST"])
@staff_required(*EDITORS)
def link_petition(item_id: int):
    item = _item(item_id)
    form = LinkForm()
    if form.validate():
        petition = petitions.get_by_code(form.code.data)
        if petition is None:
            form.code.errors = [_("Không tìm thấy kiến nghị có mã %(code)s.", code=form.code.data)]
        else:
            services.link(petition, item, current_user)
            if form.carry_units.data:
                services.carry_units(item, petition, current_user)
            db.session.commit()
            if is_htmx():
                return _item_page(item)
            flash(_("Đã liên kết kiến nghị %(code)s.", code=petition.code), "success")
            return see_other(url_for("meetings.item_page", item_id=item.id))
    return _item_page(item, link_form=form, status=422)


@bp.route("/hoi-nghi/muc/<int:item_id>/bo-lien-ket/<code>", methods=["POST"])
@staff_required(*EDITORS)
def unlink_petition(item_id: int, code: str):
    item = _item(item_id)
    petition = petitions.get_by_code(code)
    if petition is None:
        abort(404)
    services.unlink(petition, item, current_user)
    db.session.commit()
    if is_htmx():
        return _item_page(item)
    return see_other(url_for("meetings.item_page", item_id=item.id))


@bp.route("/hoi-nghi/muc/<int:item_id>/giao-don-vi", methods=["POST"])
@staff_required(*EDITORS)
def carry_units(item_id: int):
    """Give every linked petition that still awaits assignment the item's units."""
    item = _item(item_id)
    waiting = [p for p in item.petitions if p.status in (Status.RECEIVED, Status.REVIEWING)]
    carried = [p.code for p in waiting if services.carry_units(item, p, current_user)]
    db.session.commit()
    if carried:
        flash(_("Đã giao đơn vị cho %(n)d kiến nghị.", n=len(carried)), "success")
    else:
        flash(_("Không có kiến nghị nào đang chờ giao đơn vị."), "info")
    return see_other(url_for("meetings.item_page", item_id=item.id))


@bp.route("/hoi-nghi/muc/tim")
@staff_required()
def search_items():
    """htmx picker: notice items matching a query, to link from a petition's page."""
    code = request.args.get("code", "")
    return render(
        "meetings/item_search.html",
        fragment="meetings/_item_results.html",
        targets=["item-picker"],
        items=services.search_items(request.args.get("q")),
        code=code,
        q=request.args.get("q", ""),
    )


# --- from a petition's staff page -------------------------------------------------------


def _staff_petition(code: str) -> Petition:
    petition = petitions.get_by_code(code)
    if petition is None or not petitions.can_see(current_user, petition):
        abort(404)
    return petition


@bp.route("/quan-ly/kien-nghi/<code>/muc", methods=["POST"])
@staff_required(*EDITORS)
def link_item(code: str):
    petition = _staff_petition(code)
    item = _item(request.form.get("item_id", type=int) or 0)
    if request.form.get("unlink") == "1":
        services.unlink(petition, item, current_user)
    else:
        services.link(petition, item, current_user)
        if request.form.get("carry_units") == "1":
            services.carry_units(item, petition, current_user)
    db.session.commit()
    return see_other(url_for("staff.petition_page", code=petition.code))


@bp.route("/quan-ly/kien-nghi/<code>/nhom", methods=["POST"])
@staff_required(*EDITORS)
def classify(code: str):
    """Theme, repeated petition and competence of a petition."""
    petition = _staff_petition(code)
    form = ThemeForm()
    form.competence.choices = [(c.value, c.label) for c in Competence]
    if form.validate():
        try:
            services.set_theme(petition, current_user, form.theme.data)
            earlier = (
                petitions.get_by_code(form.repeat_code.data) if form.repeat_code.data else None
            )
            if form.repeat_code.data and earlier is None:
                raise services.MeetingError(
                    _("Không tìm thấy kiến nghị có mã %(code)s.", code=form.repeat_code.data),
                    field="repeat_code",
                )
            if earlier is not petition.repeat_of:
                services.mark_repeat(petition, current_user, earlier)
            petition.competence = Competence(form.competence.data)
            db.session.commit()
        except services.MeetingError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return see_other(url_for("staff.petition_page", code=petition.code))
        flash(_("Đã lưu phân loại."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return see_other(url_for("staff.petition_page", code=petition.code))


# --- reporting back in three groups -----------------------------------------------------


def _report():
    """The report for ?meeting=ID or ?tu=dd/mm/yyyy&den=dd/mm/yyyy (all when neither)."""
    from portal.meetings import reports
    from portal.timeutil import parse_date

    meeting_id = request.args.get("meeting", type=int)
    meeting = _meeting(meeting_id) if meeting_id else None
    try:
        start = parse_date(request.args.get("tu"))
        end = parse_date(request.args.get("den"))
    except ValueError:
        abort(400)
    # Personal data only for staff who may see it everywhere, and only when asked.
    personal = request.args.get("ca_nhan") == "1" and current_user.role in (
        Role.WARD_STAFF,
        Role.MTTQ,
        Role.ADMIN,
    )
    report = reports.build_report(
        meeting=meeting, start=start, end=end, ward=current_ward(), include_personal=personal
    )
    scope = {k: v for k, v in request.args.items() if k in ("meeting", "tu", "den", "ca_nhan")}
    return reports, report, scope, meeting


@bp.route("/bao-cao")
@staff_required()
def report():
    _reports, data, scope, meeting = _report()
    response = render("meetings/report.html", report=data, scope_args=scope, meeting=meeting)
    _log_personal(data, scope, "html")
    return response


def _log_personal(data, scope: dict, fmt: str) -> None:
    """A report with the petitioners' contact details was shown or downloaded: log it."""
    if not data.include_personal:
        return
    from portal.privacy import services as privacy

    privacy.record(
        privacy.Action.VIEW if fmt == "html" else privacy.Action.EXPORT,
        "report",
        data={"format": fmt, "rows": len(data.rows), "scope": scope},
    )
    db.session.commit()


def _download(body: bytes, filename: str, mimetype: str):
    from flask import Response

    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/bao-cao.docx")
@staff_required()
def report_docx():
    from portal.timeutil import local_today

    reports, data, _scope, _meeting = _report()
    ward = current_ward()
    short = ward.name.replace("Phường ", "").replace("Xã ", "") if ward else ""
    body = reports.to_docx(
        data,
        issuer_lines=[f"UBND {ward.name}".upper() if ward else "UBND"],
        number="     /BC-UBND",
        place=short,
        signer_title="CHỦ TỊCH",
        signer_name="",
    )
    return _download(
        body,
        f"bao-cao-kien-nghi-{local_today():%Y%m%d}.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


@bp.route("/bao-cao.xlsx")
@staff_required()
def report_xlsx():
    from portal.timeutil import local_today

    reports, data, scope, _meeting = _report()
    _log_personal(data, scope, "xlsx")
    return _download(
        reports.to_xlsx(data),
        f"bao-cao-kien-nghi-{local_today():%Y%m%d}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
