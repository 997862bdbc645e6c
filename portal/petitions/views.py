"""Petition pages: filing and following (anyone), the inbox and actions (staff).

Views parse input, call one service, commit once, render. The rules live in
``services.py``.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import Role
from portal.accounts.services import staff_required
from portal.extensions import db, limiter
from portal.petitions import photos, services
from portal.petitions.forms import (
    ACTION_FORMS,
    AddInfoForm,
    FilterForm,
    PetitionForm,
)
from portal.petitions.models import Category, Petition, Photo, Status
from portal.units.models import Area, Unit
from portal.units.services import area_choices, current_ward, unit_choices
from portal.web import htmx_trigger_name, is_htmx, render, see_other

bp = Blueprint("petitions", __name__)
staff_bp = Blueprint("staff", __name__, url_prefix="/quan-ly")

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def category_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Category).where(Category.active).order_by(Category.sort_order, Category.name)
    )
    return [(c.id, c.label) for c in rows]


def _ward_or_503():
    ward = current_ward()
    if ward is None:
        abort(503)
    return ward


def _petition_limit() -> str:
    return current_app.config["PETITION_RATE_LIMIT"]


def _filing_form(ward) -> PetitionForm:
    form = PetitionForm()
    form.category_id.choices = category_choices()
    form.area_id.choices = area_choices(ward)
    return form


def _attach(form, error: services.PetitionError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None or error.field == "location":
        form.form_errors.append(str(error.message))
    else:
        field.errors = [*field.errors, str(error.message)]


def _filing(form: PetitionForm, stored) -> services.Filing:
    return services.Filing(
        category=db.session.get(Category, form.category_id.data),
        title=form.title.data,
        description=form.description.data,
        latitude=form.latitude.data,
        longitude=form.longitude.data,
        area=db.session.get(Area, form.area_id.data) if form.area_id.data else None,
        address_text=form.address_text.data,
        petitioner_name=form.petitioner_name.data,
        petitioner_phone=form.petitioner_phone.data,
        petitioner_email=form.petitioner_email.data,
        petitioner_address=form.petitioner_address.data,
        show_name_publicly=form.show_name_publicly.data,
        photos=stored,
    )


def _save_with_photos(form, files, save):
    """Check photos, store them, run ``save`` and commit; undo the files on failure."""
    try:
        processed = photos.process_uploads(files)
    except photos.PhotoError as error:
        form.photos.errors = [*form.photos.errors, str(error.message)]
        return None
    stored = photos.store_all(processed)
    try:
        result = save(stored)
        db.session.commit()
    except services.PetitionError as error:
        db.session.rollback()
        photos.discard(stored)
        _attach(form, error)
        return None
    except Exception:
        db.session.rollback()
        photos.discard(stored)
        raise
    return result


# --- residents --------------------------------------------------------------------------


@bp.route("/kien-nghi/moi", methods=["GET", "POST"])
@limiter.limit(_petition_limit, methods=["POST"])
def new():
    ward = _ward_or_503()
    form = _filing_form(ward)
    if request.method == "POST":
        if form.website.data:
            # Honeypot filled: a bot. Say nothing useful and save nothing.
            abort(400)
        if form.validate():
            filing = _filing(form, [])
            try:
                services.locate(ward, filing)
            except services.PetitionError as error:
                _attach(form, error)
            else:
                petition = _save_with_photos(
                    form,
                    request.files.getlist(form.photos.name),
                    lambda stored: services.file_petition(ward, _filing(form, stored)),
                )
                if petition is not None:
                    return see_other(
                        url_for("petitions.private_page", token=petition.private_token, moi=1)
                    )
        return render("petitions/new.html", form=form, status=422)
    return render("petitions/new.html", form=form)


@bp.route("/kien-nghi/moi/kiem-tra", methods=["POST"])
def validate_field():
    """Inline validation of one field of the filing form (htmx, on blur)."""
    form = _filing_form(_ward_or_503())
    name = htmx_trigger_name() or request.args.get("field", "")
    field = getattr(form, name, None)
    if field is None or name in ("csrf_token", "photos", "website"):
        abort(404)
    form.validate()
    others = {n for n in form.errors if n != name}
    for other in others:
        getattr(form, other).errors = []
    return render(
        "petitions/_field.html",
        field=field,
        status=422 if field.errors else 200,
    )


@bp.route("/kien-nghi")
def public_list():
    ward = current_ward()
    form = FilterForm(request.args)
    _filter_choices(form, ward, staff=False)
    form.validate()
    status = Status(form.status.data) if form.status.data and not form.status.errors else None
    criteria = services.ListFilter(
        status=status,
        category_id=form.category.data if not form.category.errors else None,
        area_id=form.area.data if not form.area.errors else None,
        q=form.q.data,
        sort=form.sort.data if form.sort.data in services.SORTS else "newest",
    )
    query = services.apply_filter(select(Petition), criteria)
    if status is None:
        query = query.where(Petition.status != Status.MERGED)
    page = db.paginate(
        query,
        page=max(form.page.data or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render(
        "petitions/list.html",
        fragment="petitions/_results.html",
        targets=["results"],
        form=form,
        page=page,
    )


@bp.route("/kien-nghi/<code>")
def public_page(code: str):
    canonical = services.normalize_code(code)
    petition = services.get_by_code(canonical)
    if petition is None:
        abort(404)
    if canonical != code:
        return see_other(url_for("petitions.public_page", code=canonical))
    return render("petitions/public_page.html", petition=petition)


@bp.route("/cua-toi/<token>", methods=["GET", "POST"])
@limiter.limit(_petition_limit, methods=["POST"])
def private_page(token: str):
    petition = services.get_by_token(token)
    if petition is None:
        abort(404)
    form = AddInfoForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            event = _save_with_photos(
                form,
                request.files.getlist(form.photos.name),
                lambda stored: services.add_information(petition, form.text.data, stored),
            )
            if event is not None:
                flash(_("Đã gửi thông tin bổ sung. Cảm ơn bạn."), "success")
                return see_other(url_for("petitions.private_page", token=token))
        status = 422
    response = render(
        "petitions/private_page.html",
        petition=petition,
        form=form,
        just_filed=request.args.get("moi") == "1",
        status=status,
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


@bp.route("/anh/<int:photo_id>")
@bp.route("/anh/<int:photo_id>/<size>")
def photo(photo_id: int, size: str = "lon"):
    item = db.session.get(Photo, photo_id)
    if item is None or size not in ("lon", "nho"):
        abort(404)
    token = request.args.get("t")
    is_owner = bool(token) and services.get_by_token(token) is item.petition
    is_staff = current_user.is_authenticated and services.can_see(current_user, item.petition)
    if not (item.published or is_owner or is_staff):
        abort(404)
    name = item.stored_name if size == "lon" else item.thumb_name
    try:
        path = photos.path_of(name)
    except FileNotFoundError:
        abort(404)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=3600 if item.published else 0)
    if not item.published:
        response.headers.update(PRIVATE_HEADERS)
        response.cache_control.private = True
    return response


# --- staff ------------------------------------------------------------------------------


def _filter_choices(form: FilterForm, ward, *, staff: bool) -> None:
    any_choice = [("", _("Tất cả"))]
    form.status.choices = [(s.value, s.label) for s in Status]
    form.category.choices = category_choices()
    form.area.choices = area_choices(ward)
    form.unit.choices = unit_choices() if staff else []
    form.sort.choices = [
        ("newest", _("Mới nhất")),
        ("oldest", _("Cũ nhất")),
        ("updated", _("Mới cập nhật")),
        ("expected", _("Hạn hoàn thành gần nhất")),
    ]
    form.any_choice = any_choice


@staff_bp.route("/")
@staff_required()
def inbox():
    ward = current_ward()
    form = FilterForm(request.args)
    _filter_choices(form, ward, staff=True)
    form.validate()
    status = Status(form.status.data) if form.status.data and not form.status.errors else None
    criteria = services.ListFilter(
        status=status,
        category_id=form.category.data if not form.category.errors else None,
        area_id=form.area.data if not form.area.errors else None,
        unit_id=form.unit.data if not form.unit.errors else None,
        overdue=bool(form.overdue.data),
        q=form.q.data,
        sort=form.sort.data if form.sort.data in services.SORTS else "newest",
    )
    visible = services.visible_query(current_user)
    counts = services.status_counts(visible, unit_id=criteria.unit_id)
    page = db.paginate(
        services.apply_filter(visible, criteria),
        page=max(form.page.data or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render(
        "staff/inbox.html",
        fragment="staff/_results.html",
        targets=["results"],
        form=form,
        page=page,
        counts=counts,
    )


def _staff_petition(code: str) -> Petition:
    petition = services.get_by_code(code)
    # Unit staff get a 404 for what is not theirs: they need not know it exists.
    if petition is None or not services.can_see(current_user, petition):
        abort(404)
    return petition


def _action_form(action: str, petition: Petition, formdata=None):
    form_class = ACTION_FORMS[action]
    form = form_class(formdata=formdata, prefix=action)
    if formdata is None:
        form.version.data = str(petition.version)
    ward = petition.ward
    if hasattr(form, "category_id"):
        form.category_id.choices = category_choices()
        form.area_id.choices = area_choices(ward)
        if formdata is None:
            form.title.data = petition.title
            form.category_id.data = petition.category_id
            form.area_id.data = petition.area_id
    if hasattr(form, "lead_unit_id"):
        form.lead_unit_id.choices = unit_choices()
        form.support_unit_ids.choices = unit_choices()
        lead = petition.lead_assignment
        if formdata is None and lead is not None:
            form.lead_unit_id.data = lead.unit_id
            form.support_unit_ids.data = [
                a.unit_id for a in petition.active_assignments if a is not lead
            ]
            form.responsible_person.data = lead.responsible_person
            form.roadmap.data = lead.roadmap
            form.expected_on.data = lead.expected_on
    return form


def _workspace(petition: Petition, *, failed=None, conflict=None, status: int = 200):
    forms = {
        action: _action_form(action, petition)
        for action in services.available_actions(current_user, petition)
        if action in ACTION_FORMS
    }
    if failed is not None:
        forms[failed[0]] = failed[1]
    return render(
        "staff/petition.html",
        fragment="staff/_workspace.html",
        targets=["workspace"],
        petition=petition,
        forms=forms,
        open_action=failed[0] if failed else None,
        conflict=conflict,
        status=status,
    )


@staff_bp.route("/kien-nghi/<code>")
@staff_required()
def petition_page(code: str):
    return _workspace(_staff_petition(code))


def _perform(action: str, petition: Petition, form) -> None:
    user, seen = current_user, form.seen_version
    get = db.session.get

    def by_code(value):
        return services.get_by_code(value) if value else None

    if action in ("review", "edit"):
        run = services.review if action == "review" else services.edit
        run(
            petition,
            user,
            title=form.title.data,
            category=get(Category, form.category_id.data) if form.category_id.data else None,
            area=get(Area, form.area_id.data) if form.area_id.data else None,
            public_note=form.public_note.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "assign":
        plan = services.AssignmentPlan(
            lead_unit=get(Unit, form.lead_unit_id.data),
            support_units=[get(Unit, i) for i in form.support_unit_ids.data or []],
            responsible_person=form.responsible_person.data,
            roadmap=form.roadmap.data,
            expected_on=form.expected_on.data,
        )
        services.assign(
            petition,
            user,
            plan,
            public_note=form.public_note.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "update":
        services.post_update(
            petition,
            user,
            public_note=form.public_note.data,
            internal_note=form.internal_note.data,
            expected_on=form.expected_on.data,
            seen_version=seen,
        )
    elif action == "resolve":
        services.resolve(
            petition,
            user,
            public_note=form.public_note.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "cannot":
        services.mark_cannot_resolve(
            petition,
            user,
            reason=form.reason.data,
            recommendation=form.recommendation.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "forward":
        services.forward(
            petition,
            user,
            to_body=form.to_body.data,
            public_note=form.public_note.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "forward_reply":
        services.record_forward_reply(
            petition,
            user,
            reply=form.reply.data,
            continue_at_ward=form.continue_at_ward.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "reject":
        duplicate = by_code(form.duplicate_code.data)
        if form.duplicate_code.data and duplicate is None:
            raise services.PetitionError(
                _("Không tìm thấy kiến nghị có mã %(code)s.", code=form.duplicate_code.data),
                field="duplicate_code",
            )
        services.reject(
            petition,
            user,
            reason=form.reason.data,
            duplicate_of=duplicate,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "merge":
        services.merge(
            petition,
            user,
            into=by_code(form.into_code.data),
            public_note=form.public_note.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "close":
        services.close(
            petition,
            user,
            public_note=form.public_note.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )
    elif action == "reopen":
        services.reopen(
            petition,
            user,
            reason=form.reason.data,
            internal_note=form.internal_note.data,
            seen_version=seen,
        )


@staff_bp.route("/kien-nghi/<code>/<action>", methods=["POST"])
@staff_required(Role.WARD_STAFF, Role.UNIT_STAFF, Role.ADMIN)
def act(code: str, action: str):
    if action not in ACTION_FORMS:
        abort(404)
    petition = _staff_petition(code)
    form = _action_form(action, petition, formdata=request.form)
    if not form.validate():
        return _workspace(petition, failed=(action, form), status=422)
    try:
        _perform(action, petition, form)
        db.session.flush()
        db.session.commit()
    except services.ConflictError as error:
        db.session.rollback()
        return _workspace(petition, failed=(action, form), conflict=error, status=409)
    except StaleDataError:
        # Another officer committed between our read and our write.
        db.session.rollback()
        petition = _staff_petition(code)
        conflict = services.ConflictError(petition, form.seen_version or 0)
        return _workspace(petition, failed=(action, form), conflict=conflict, status=409)
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except services.PetitionError as error:
        db.session.rollback()
        petition = _staff_petition(code)
        _attach(form, error)
        return _workspace(petition, failed=(action, form), status=422)
    flash(_("Đã lưu."), "success")
    if is_htmx():
        return _workspace(petition)
    return see_other(url_for("staff.petition_page", code=petition.code))


@staff_bp.route("/kien-nghi/<code>/anh/<int:photo_id>", methods=["POST"])
@staff_required(Role.WARD_STAFF, Role.ADMIN)
def publish_photo(code: str, photo_id: int):
    petition = _staff_petition(code)
    item = db.session.get(Photo, photo_id)
    if item is None or item.petition_id != petition.id:
        abort(404)
    try:
        publish = request.form.get("publish") == "1"
        services.set_photo_published(petition, current_user, item, publish)
        db.session.commit()
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    return see_other(url_for("staff.petition_page", code=petition.code))
