"""Personal data pages: the privacy notice (anyone), a petitioner's own copy and contact
details (private link), the audit log and requests under the law (admins).

Every page that shows or hands out personal data appends an audit entry through
``services.record`` and commits.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.accounts.services import staff_required
from portal.extensions import db, limiter
from portal.petitions import services as petitions
from portal.petitions.models import Petition
from portal.privacy import export, services
from portal.privacy.forms import AuditFilterForm, ContactForm, PersonForm
from portal.privacy.models import AuditEntry
from portal.privacy.services import Action
from portal.timeutil import local_today
from portal.units.services import current_ward
from portal.web import render, see_other

bp = Blueprint("privacy", __name__)

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
SYSTEM = "he-thong"
PETITIONER = "nguoi-kien-nghi"


def _private(response: Response) -> Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


def _petition_limit() -> str:
    return current_app.config["PETITION_RATE_LIMIT"]


def _json_download(payload: dict, filename: str) -> Response:
    body = json.dumps(payload, ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response)


# --- the privacy notice -------------------------------------------------------------------


@bp.app_template_global("retention_period")
def _period(days: int) -> str:
    """730 -> "2 năm" / "2 years"; 100 -> "100 ngày" / "100 days"."""
    if days % 365 == 0:
        return ngettext("%(num)d năm", "%(num)d năm", days // 365)
    return ngettext("%(num)d ngày", "%(num)d ngày", days)


def _host(url: str) -> str:
    return urlsplit((url or "").replace("{s}", "a")).netloc


@bp.route("/quyen-rieng-tu")
def policy():
    config = current_app.config
    ward = current_ward()
    days = services.retention_days()
    contact = {
        "name": config.get("PRIVACY_CONTACT_NAME")
        or (_("Ủy ban nhân dân %(ward)s", ward=ward.name) if ward else ""),
        "email": config.get("PRIVACY_CONTACT_EMAIL"),
        "phone": config.get("PRIVACY_CONTACT_PHONE"),
        "address": config.get("PRIVACY_CONTACT_ADDRESS"),
    }
    return render(
        "privacy/policy.html",
        contact=contact,
        retention=_period(days),
        retention_days=days,
        rating_days=config.get("RATING_DAYS", 30),
        tile_host=_host(config.get("MAP_TILE_URL") or ""),
        geocoder=config.get("GEOCODER") == "nominatim",
        max_photos=config.get("MAX_PHOTOS", 5),
    )


# --- a petitioner's own data (private link) ----------------------------------------------


def _own_petition(token: str) -> Petition:
    petition = petitions.get_by_token(token)
    if petition is None:
        abort(404)
    return petition


def _copy(petition: Petition, fmt: str):
    email = export.verified_email(petition, request.args.get("thu"))
    copy = export.petitioner_copy(petition, email=email)
    services.record(
        Action.EXPORT,
        "petition",
        petition.id,
        actor_kind="petitioner",
        data={"code": petition.code, "format": fmt, "email_verified": bool(email)},
    )
    db.session.commit()
    return copy, email


@bp.route("/cua-toi/<token>/du-lieu")
def my_data(token: str):
    """ "Tải dữ liệu của tôi": the copy as a page, with the JSON to download."""
    petition = _own_petition(token)
    copy, email = _copy(petition, "html")
    return _private(
        render(
            "privacy/my_data.html",
            petition=petition,
            copy=copy,
            thu=request.args.get("thu") if email else None,
            status=200,
        )
    )


@bp.route("/cua-toi/<token>/du-lieu.json")
def my_data_json(token: str):
    petition = _own_petition(token)
    copy, _email = _copy(petition, "json")
    return _json_download(copy, f"du-lieu-{petition.code}.json")


@bp.route("/cua-toi/<token>/du-lieu/xac-nhan", methods=["POST"])
@limiter.limit(_petition_limit)
def my_data_email(token: str):
    """Mail the petitioner a link that adds what their address did elsewhere."""
    from portal import select_locale

    petition = _own_petition(token)
    if not petition.petitioner_email:
        flash(_("Kiến nghị này không có địa chỉ thư điện tử để gửi đường dẫn xác nhận."), "error")
        return see_other(url_for("privacy.my_data", token=token))
    export.queue_email_link(petition, locale=select_locale())
    db.session.commit()
    flash(
        _(
            "Đã gửi thư đến địa chỉ của bạn. Hãy mở đường dẫn trong thư (có hiệu lực "
            "%(hours)d giờ) để xem đầy đủ dữ liệu.",
            hours=export.EMAIL_LINK_HOURS,
        ),
        "success",
    )
    return see_other(url_for("privacy.my_data", token=token))


@bp.route("/cua-toi/<token>/lien-he", methods=["GET", "POST"])
@limiter.limit(_petition_limit, methods=["POST"])
def contact(token: str):
    """The petitioner corrects, clears or stops showing their contact details."""
    petition = _own_petition(token)
    form = ContactForm()
    if request.method == "GET":
        form.name.data = petition.petitioner_name
        form.phone.data = petition.petitioner_phone
        form.email.data = petition.petitioner_email
        form.address.data = petition.petitioner_address
        form.show_name_publicly.data = petition.show_name_publicly
        return _private(render("privacy/contact.html", petition=petition, form=form))
    if not form.validate():
        return _private(render("privacy/contact.html", petition=petition, form=form, status=422))
    changed = services.correct_contact(
        petition,
        name=form.name.data,
        phone=form.phone.data,
        email=form.email.data,
        address=form.address.data,
        show_name_publicly=form.show_name_publicly.data,
    )
    db.session.commit()
    if changed:
        flash(_("Đã cập nhật thông tin liên hệ của bạn."), "success")
    else:
        flash(_("Thông tin liên hệ không thay đổi."), "info")
    return see_other(url_for("petitions.private_page", token=token))


# --- the audit log (admins) ---------------------------------------------------------------


def _ward_id() -> int | None:
    ward = current_ward()
    return ward.id if ward is not None else None


def _of_this_ward(column):
    """Accounts of this deployment's ward (``ward_id`` NULL: created before wards)."""
    ward_id = _ward_id()
    if ward_id is None:
        return column.is_(None) | column.is_not(None)
    return (column == ward_id) | column.is_(None)


def _audit_filter() -> tuple[AuditFilterForm, services.AuditFilter, bool]:
    form = AuditFilterForm(request.args)
    users = db.session.scalars(
        select(User).where(_of_this_ward(User.ward_id)).order_by(User.full_name, User.id)
    )
    form.nguoi.choices = [
        (SYSTEM, _("Hệ thống")),
        (PETITIONER, _("Người kiến nghị (đường dẫn riêng)")),
        *[(str(u.id), f"{u.full_name} ({u.email})") for u in users],
    ]
    form.hanh_dong.choices = [(a.value, a.label) for a in Action]
    form.nhom.choices = [(key, str(label)) for key, label in services.GROUPS.items()]
    valid = form.validate()
    criteria = services.AuditFilter()

    def clean(field):
        return field.data if field.data and not field.errors else None

    person = clean(form.nguoi)
    if person == SYSTEM:
        criteria.actor_kind = "system"
    elif person == PETITIONER:
        criteria.actor_kind = "petitioner"
    elif person:
        criteria.actor_id = int(person)
    criteria.action = clean(form.hanh_dong)
    criteria.group = clean(form.nhom)
    criteria.start = clean(form.tu)
    criteria.end = clean(form.den) if not form.den.errors else None
    code = clean(form.ma)
    if code:
        petition = petitions.get_by_code(petitions.normalize_code(code))
        if petition is None:
            form.ma.errors = [_("Không có kiến nghị mã %(code)s.", code=code)]
            valid = False
        else:
            criteria.petition_id = petition.id
    return form, criteria, valid


@bp.route("/quan-ly/nhat-ky-du-lieu")
@staff_required(Role.ADMIN)
def audit_log():
    form, criteria, valid = _audit_filter()
    page = db.paginate(
        services.audit_query(criteria, _ward_id()),
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return _private(
        render(
            "privacy/audit_log.html",
            form=form,
            page=page,
            rows=[(entry, services.describe(entry)) for entry in page.items],
            args=args,
            status=200 if valid else 422,
        )
    )


@bp.route("/quan-ly/nhat-ky-du-lieu.csv")
@staff_required(Role.ADMIN)
def audit_log_csv():
    form, criteria, valid = _audit_filter()
    if not valid:
        return _private(
            render("privacy/audit_log.html", form=form, page=None, rows=[], args={}, status=422)
        )
    query = services.audit_query(criteria, _ward_id())
    rows = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    entry = services.record(
        Action.EXPORT,
        "audit_log",
        data={"format": "csv", "rows": rows, "filters": criteria.as_dict()},
    )
    db.session.commit()
    # What existed when the export was asked for; its own entry is in the next export.
    query = query.where(AuditEntry.id < entry.id)
    response = Response(
        stream_with_context(services.audit_csv(query)), mimetype="text/csv; charset=utf-8"
    )
    name = f"nhat-ky-du-lieu-ca-nhan-{local_today():%Y%m%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


# --- a person's request under the law (admins) -------------------------------------------


def _person_query(form: PersonForm) -> services.PersonQuery:
    return services.PersonQuery(
        email=form.email.data or None, phone=form.phone.data or None, ward_id=_ward_id()
    )


@bp.route("/quan-ly/du-lieu-ca-nhan", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def person():
    """Find, hand over or erase what the portal holds under an address or a phone number.

    POST, not GET: the address must not end up in URLs, browser history or server logs.
    """
    form = PersonForm()
    if request.method == "GET":
        return _private(render("privacy/person.html", form=form, found=None))
    if not form.validate():
        return _private(render("privacy/person.html", form=form, found=None, status=422))
    query = _person_query(form)
    what = request.form.get("lam", "tim")
    if what == "xoa":
        if request.form.get("xac_nhan") != "1":
            found = services.find_person(query)
            return _private(
                render(
                    "privacy/person.html",
                    form=form,
                    found=found,
                    confirm_error=_("Hãy đánh dấu ô xác nhận trước khi xóa."),
                    status=422,
                )
            )
        erased = services.erase_person(query)
        services.record(
            Action.ERASE,
            "person",
            data={
                "hash": query.fingerprints,
                "erased": erased.counts(),
                "codes": erased.codes,
            },
        )
        db.session.commit()
        flash(
            _(
                "Đã xóa dữ liệu cá nhân: %(p)d kiến nghị, %(c)d lần cùng kiến nghị, "
                "%(f)d lượt theo dõi, %(n)d thư.",
                p=erased.petitioners,
                c=erased.co_signers,
                f=erased.follows,
                n=erased.notifications,
            ),
            "success",
        )
        return see_other(url_for("privacy.person"))
    found = services.find_person(query)
    if what == "tai":
        services.record(
            Action.EXPORT,
            "person",
            data={"format": "json", "hash": query.fingerprints, "found": found.counts()},
        )
        db.session.commit()
        return _json_download(
            export.person_copy(found), f"du-lieu-ca-nhan-{local_today():%Y%m%d}.json"
        )
    services.record(
        Action.VIEW, "person", data={"hash": query.fingerprints, "found": found.counts()}
    )
    db.session.commit()
    return _private(render("privacy/person.html", form=form, found=found))
