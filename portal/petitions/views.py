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
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import Role
from portal.accounts.services import staff_required
from portal.extensions import db, limiter
from portal.pagecache import public_page
from portal.petitions import photos, services
from portal.petitions.forms import (
    ACTION_FORMS,
    AddInfoForm,
    CoSignForm,
    FilterForm,
    PetitionForm,
)
from portal.petitions.models import Assignment, Category, Petition, Photo, Status
from portal.storage import get_storage
from portal.units.models import Area, Unit
from portal.units.services import area_choices, current_ward, unit_choices
from portal.web import htmx_trigger_name, is_htmx, render, see_other

bp = Blueprint("petitions", __name__)
staff_bp = Blueprint("staff", __name__, url_prefix="/quan-ly")

MAX_PAGE = 100_000

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


@bp.route("/kien-nghi/moi/gan-day")
def nearby():
    """Open petitions of the category near the pin (htmx, while filing): co-sign instead?

    Codes, titles, statuses and distances only: nothing personal.
    """
    try:
        lat = float(request.args.get("latitude", ""))
        lon = float(request.args.get("longitude", ""))
        category_id = int(request.args.get("category_id", ""))
    except ValueError:
        return render("petitions/_nearby.html", found=[])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return render("petitions/_nearby.html", found=[])
    found = services.nearby_open(category_id=category_id, latitude=lat, longitude=lon)
    response = render("petitions/_nearby.html", found=found)
    response.cache_control.no_store = True
    return response


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


def _list_filter(*, staff: bool) -> tuple[FilterForm, services.ListFilter]:
    """Read list filters from the query string; a bad value is ignored, never a 500."""
    form = FilterForm(request.args)
    form.status.choices = [(s.value, s.label) for s in Status]
    form.category.choices = category_choices()
    form.area.choices = area_choices(current_ward())
    form.unit.choices = unit_choices() if staff else []
    form.sort.choices = [
        ("newest", _("Mới nhất")),
        ("oldest", _("Cũ nhất")),
        ("updated", _("Mới cập nhật")),
        ("expected", _("Hạn hoàn thành gần nhất")),
    ]
    form.validate()

    def clean(field):
        return field.data if field.data and not field.errors else None

    criteria = services.ListFilter(
        status=Status(clean(form.status)) if clean(form.status) else None,
        category_id=clean(form.category),
        area_id=clean(form.area),
        unit_id=clean(form.unit) if staff else None,
        overdue=staff and bool(form.overdue.data),
        due_soon=staff and bool(form.due_soon.data),
        q=form.q.data,
        sort=clean(form.sort) or "newest",
    )
    return form, criteria


class CountedPagination(SelectPagination):
    """A page and the total in one query (``count(*) OVER ()``), for searches: the
    trigram index is then read once, not once for the rows and again for the count."""

    def _query_items(self) -> list:
        select_ = self._query_args["select"].add_columns(func.count().over())
        select_ = select_.limit(self.per_page).offset(self._query_offset)
        rows = self._query_args["session"].execute(select_).all()
        self._total = rows[0][-1] if rows else None
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        if self._total is not None:
            return self._total
        return super()._query_count()  # past the last page: count as usual


def _page(query, form: FilterForm, *, search: bool = False):
    # What a row of the list shows: residential group and category joined to the rows,
    # the units in one more query (not one query per row).
    query = query.options(
        joinedload(Petition.area),
        joinedload(Petition.category),
        selectinload(Petition.assignments).joinedload(Assignment.unit),
    )
    # Bounded: a page number beyond any list is just an empty page, never an overflow.
    page = min(max(form.page.data or 1, 1), MAX_PAGE) if not form.page.errors else 1
    per_page = current_app.config["PAGE_SIZE"]
    if search:
        return CountedPagination(
            select=query, session=db.session(), page=page, per_page=per_page, error_out=False
        )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


@bp.route("/kien-nghi")
@public_page
def public_list():
    form, criteria = _list_filter(staff=False)
    query = services.apply_filter(services.in_current_ward(select(Petition)), criteria)
    if criteria.status is None:
        query = query.where(Petition.status != Status.MERGED)
    return render(
        "petitions/list.html",
        fragment="petitions/_results.html",
        targets=["results"],
        form=form,
        page=_page(query, form, search=bool(criteria.q and criteria.q.strip())),
    )


@bp.route("/kien-nghi/<code>")
@public_page
def public_page(code: str):
    canonical = services.normalize_code(code)
    petition = services.get_by_code(canonical)
    if petition is None:
        abort(404)
    if canonical != code:
        return see_other(url_for("petitions.public_page", code=canonical))
    return render(
        "petitions/public_page.html", petition=petition, cosign_form=CoSignForm(prefix="cosign")
    )


@bp.route("/kien-nghi/<code>/dong-y", methods=["GET"])
def co_sign_box(code: str):
    """The co-sign box of a nearby petition, for the filing form's dialog (htmx).

    The filing form cannot hold another form, so the box is shown in a dialog beside it;
    a browser without htmx goes to the petition's page, where the same box is.
    """
    petition = services.get_by_code(services.normalize_code(code))
    if petition is None:
        abort(404)
    if not is_htmx():
        return see_other(url_for("petitions.public_page", code=petition.code) + "#cosign-box")
    response = render(
        "petitions/_cosign_dialog.html", petition=petition, cosign_form=CoSignForm(prefix="cosign")
    )
    response.cache_control.no_store = True
    return response


@bp.route("/kien-nghi/<code>/dong-y", methods=["POST"])
@limiter.limit(_petition_limit)
def co_sign(code: str):
    """ "Tôi cũng gặp vấn đề này": count one more resident instead of a new petition.

    An address that already co-signed gets the same answer as a new one (and is not counted
    twice): the answer must not tell anyone whether an address co-signed.
    """
    petition = services.get_by_code(services.normalize_code(code))
    if petition is None:
        abort(404)
    form = CoSignForm(prefix="cosign")
    if form.website.data:
        abort(400)  # honeypot filled: a bot

    def answer(status: int, **context):
        return render(
            "petitions/public_page.html",
            fragment="petitions/_cosign.html",
            targets=["cosign-box"],
            petition=petition,
            cosign_form=form,
            status=status,
            **context,
        )

    if not form.validate():
        return answer(422)
    try:
        services.co_sign(
            petition, name=form.name.data, phone=form.phone.data, email=form.email.data
        )
        db.session.commit()
    except IntegrityError:
        # The same address at the same moment: the other request counted it and asked for
        # the follow; the answer is the one of a new co-signature, as below.
        db.session.rollback()
    except services.PetitionError as error:
        db.session.rollback()
        form.form_errors.append(str(error.message))
        return answer(409)
    message = _("Cảm ơn bạn. Đã ghi nhận bạn cũng gặp vấn đề này.")
    if form.email.data:
        message += " " + _("Hãy mở thư chúng tôi vừa gửi để xác nhận theo dõi tiến độ.")
    if is_htmx():
        return answer(200, cosign_done=True, cosign_message=message)
    flash(message, "success")
    return see_other(url_for("petitions.public_page", code=petition.code) + "#cosign-box")


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
    if item is None or size not in ("lon", "nho") or not services.of_this_ward(item.petition):
        abort(404)
    token = request.args.get("t")
    is_owner = bool(token) and services.get_by_token(token) is item.petition
    is_staff = current_user.is_authenticated and services.can_see(current_user, item.petition)
    if not (item.published or is_owner or is_staff):
        abort(404)
    name = item.stored_name if size == "lon" else item.thumb_name
    try:
        response = get_storage().response(
            name, mimetype="image/jpeg", max_age=3600 if item.published else 0
        )
    except FileNotFoundError:
        abort(404)
    if not item.published:
        response.headers.update(PRIVATE_HEADERS)
        response.cache_control.private = True
    return response


# --- staff ------------------------------------------------------------------------------


@staff_bp.route("/")
@staff_required()
def inbox():
    form, criteria = _list_filter(staff=True)
    visible = services.visible_query(current_user)
    return render(
        "staff/inbox.html",
        fragment="staff/_results.html",
        targets=["results"],
        form=form,
        page=_page(
            services.apply_filter(visible, criteria),
            form,
            search=bool(criteria.q and criteria.q.strip()),
        ),
        counts=services.status_counts(visible, unit_id=criteria.unit_id),
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


def _record_view(petition: Petition) -> None:
    """The staff page shows the petitioner's and co-signers' contact details: log who saw
    them (nothing when the petition holds none). Flushes; the request commits."""
    from portal.privacy import services as privacy

    privacy.record_petition_view(petition)


def _workspace(
    petition: Petition, *, failed=None, conflict=None, status: int = 200, recorded=False
):
    """The staff page (or its workspace fragment), with its audit entry committed in the
    request's one commit: here, or by the action that ``recorded`` it before its own."""
    forms = {
        action: _action_form(action, petition)
        for action in services.available_actions(current_user, petition)
        if action in ACTION_FORMS
    }
    if failed is not None:
        forms[failed[0]] = failed[1]
    response = render(
        "staff/petition.html",
        fragment="staff/_workspace.html",
        targets=["workspace"],
        petition=petition,
        forms=forms,
        open_action=failed[0] if failed else None,
        conflict=conflict,
        duplicates=services.likely_duplicates(petition),
        status=status,
    )
    if not recorded:
        _record_view(petition)
        db.session.commit()
    return response


@staff_bp.route("/kien-nghi/<code>")
@staff_required()
def petition_page(code: str):
    return _workspace(_staff_petition(code))


SERVICES = {
    "review": services.review,
    "edit": services.edit,
    "update": services.post_update,
    "resolve": services.resolve,
    "cannot": services.mark_cannot_resolve,
    "forward": services.forward,
    "forward_reply": services.record_forward_reply,
    "reject": services.reject,
    "merge": services.merge,
    "close": services.close,
    "reopen": services.reopen,
}


def _perform(action: str, petition: Petition, form) -> None:
    """Turn the action form into the service call: fields are named as the arguments."""
    data = {f.short_name: f.data for f in form if f.short_name not in ("csrf_token", "version")}

    def row(model, key):
        value = data.pop(key)
        return db.session.get(model, value) if value else None

    if "category_id" in data:
        data["category"] = row(Category, "category_id")
        data["area"] = row(Area, "area_id")
    if "duplicate_code" in data:
        code = data.pop("duplicate_code")
        data["duplicate_of"] = services.get_by_code(code) if code else None
        if code and data["duplicate_of"] is None:
            raise services.PetitionError(
                _("Không tìm thấy kiến nghị có mã %(code)s.", code=code), field="duplicate_code"
            )
    if "into_code" in data:
        data["into"] = services.get_by_code(data.pop("into_code"))
    if action == "assign":
        plan = services.AssignmentPlan(
            lead_unit=row(Unit, "lead_unit_id"),
            support_units=[db.session.get(Unit, i) for i in data.pop("support_unit_ids") or []],
            responsible_person=data.pop("responsible_person"),
            roadmap=data.pop("roadmap"),
            expected_on=data.pop("expected_on"),
        )
        services.assign(petition, current_user, plan, seen_version=form.seen_version, **data)
        return
    SERVICES[action](petition, current_user, seen_version=form.seen_version, **data)


@staff_bp.route("/kien-nghi/<code>/<action>", methods=["POST"])
@staff_required(Role.WARD_STAFF, Role.UNIT_STAFF, Role.ADMIN)
def act(code: str, action: str):
    if action not in ACTION_FORMS:
        abort(404)
    petition = _staff_petition(code)
    # Decided before the form is read: a role that may not act never gets its form back.
    if not services.may(current_user, action, petition):
        abort(403)
    form = _action_form(action, petition, formdata=request.form)
    if not form.validate():
        return _workspace(petition, failed=(action, form), status=422)
    try:
        _perform(action, petition, form)
        db.session.flush()
        if is_htmx():
            # The workspace is shown again below: its audit entry joins the action's commit,
            # the request's only one.
            _record_view(petition)
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
        return _workspace(petition, recorded=True)
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
