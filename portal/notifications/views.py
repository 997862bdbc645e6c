"""Following by e-mail (double opt-in, one-click unsubscribe), Atom feeds, the outbox page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Role
from portal.accounts.services import staff_required
from portal.extensions import csrf, db, limiter
from portal.notifications import feeds, services
from portal.notifications.forms import FollowForm
from portal.notifications.models import Notification, NotificationStatus
from portal.petitions import services as petitions
from portal.units.models import Area
from portal.units.services import area_choices, current_ward, current_ward_id, of_this_ward
from portal.web import is_htmx, render, see_other

bp = Blueprint("notifications", __name__)

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
FOLLOW_TARGETS = ("follow-box",)


def _follow_limit() -> str:
    return services.setting("FOLLOW_RATE_LIMIT", "20 per hour")


def _follow_form(formdata=None) -> FollowForm:
    form = FollowForm(formdata=formdata) if formdata is not None else FollowForm()
    form.area_id.choices = area_choices(current_ward())
    return form


def _private(response: Response) -> Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


# --- following --------------------------------------------------------------------------


@bp.route("/theo-doi", methods=["GET", "POST"])
@limiter.limit(_follow_limit, methods=["POST"])
def follow():
    """GET: the form (a petition with ``?ma=``, else a residential group). POST: follow."""
    from portal import select_locale

    if request.method == "GET":
        form = _follow_form(formdata=request.args)
        form.email.errors = []
        petition = petitions.get_by_code(form.ma.data) if form.ma.data else None
        if form.ma.data and petition is None:
            abort(404)
        return render("notifications/follow.html", form=form, petition=petition)

    form = _follow_form()
    petition = petitions.get_by_code(form.ma.data) if form.ma.data else None
    if form.validate():
        if form.ma.data and petition is None:
            form.form_errors.append(_("Không tìm thấy kiến nghị cần theo dõi."))
        else:
            area = None
            if petition is None and form.area_id.data:
                area = db.session.get(Area, form.area_id.data)
            try:
                services.request_follow(
                    form.email.data, petition=petition, area=area, locale=select_locale()
                )
            except services.FollowError as error:
                db.session.rollback()
                field = getattr(form, error.field, None) if error.field else None
                if field is None:
                    form.form_errors.append(str(error.message))
                else:
                    field.errors = [*field.errors, str(error.message)]
            else:
                db.session.commit()
                if is_htmx():
                    return render(
                        "notifications/sent.html",
                        fragment="notifications/_follow.html",
                        targets=FOLLOW_TARGETS,
                        petition=petition,
                        follow_sent=True,
                    )
                return see_other(
                    url_for(".follow_sent", ma=petition.code if petition is not None else None)
                )
    return render(
        "notifications/follow.html",
        fragment="notifications/_follow.html",
        targets=FOLLOW_TARGETS,
        form=form,
        follow_form=form,
        petition=petition,
        status=422,
    )


@bp.route("/theo-doi/da-gui")
def follow_sent():
    code = request.args.get("ma")
    petition = petitions.get_by_code(code) if code else None
    return render("notifications/sent.html", petition=petition)


@bp.route("/theo-doi/xac-nhan/<token>")
def confirm(token: str):
    follow = services.confirm_follow(token)
    if follow is None:
        db.session.rollback()
        return _private(render("notifications/invalid.html", status=400))
    db.session.commit()
    return _private(
        render(
            "notifications/confirmed.html",
            follow=follow,
            target_name=services.follow_target_name(follow),
            unsubscribe_url=url_for(
                ".unsubscribe",
                token=services.unsubscribe_token(f"follow:{follow.id}", follow.email),
            ),
        )
    )


@bp.route("/theo-doi/huy/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail providers POST here without a form of ours.
def unsubscribe(token: str):
    """One GET (the link) or one POST (``List-Unsubscribe-Post``) stops the messages."""
    result = services.unsubscribe(token)
    if result is None:
        db.session.rollback()
        return _private(render("notifications/invalid.html", status=400))
    topic, _email = result
    what = services.unsubscribed_what(topic)
    db.session.commit()
    return _private(render("notifications/unsubscribed.html", what=what))


# --- evidence: "is the problem still there?" -------------------------------------------


@bp.route("/theo-doi/tinh-hinh/<token>")
def evidence(token: str):
    """A follower's answer from an update e-mail; evidence for staff, not a vote."""
    try:
        answer = services.record_evidence(token)
    except IntegrityError:  # the same follower answered twice at the same moment
        db.session.rollback()
        answer = services.record_evidence(token)
    if answer is None:
        db.session.rollback()
        return _private(render("notifications/invalid.html", status=400))
    petition = answer.petition
    db.session.commit()
    return _private(render("notifications/evidence.html", evidence=answer, petition=petition))


@bp.app_template_global("evidence_counts")
def evidence_counts(petition):
    """For ``notifications/_evidence.html`` on the staff and public petition pages."""
    return services.evidence_counts(petition)


# --- feeds ------------------------------------------------------------------------------


def _atom(xml: bytes) -> Response:
    response = Response(xml, mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.route("/feeds/kien-nghi/<code>.atom")
def petition_feed(code: str):
    petition = petitions.get_by_code(code)
    if petition is None:
        abort(404)
    return _atom(feeds.petition_feed(petition))


@bp.route("/feeds/to-dan-pho/<int:area_id>.atom")
def area_feed(area_id: int):
    area = db.session.get(Area, area_id)
    if area is None or area.ward_id != current_ward_id():
        abort(404)
    return _atom(feeds.area_feed(area))


# --- the outbox, for admins -------------------------------------------------------------


@bp.route("/quan-ly/thu-di")
@staff_required(Role.ADMIN)
def outbox():
    wanted = request.args.get("trang-thai")
    status = NotificationStatus(wanted) if wanted in set(NotificationStatus) else None
    query = (
        select(Notification)
        .where(of_this_ward(Notification.ward_id))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if status is not None:
        query = query.where(Notification.status == status)
    page = db.paginate(
        query,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=current_app.config.get("PAGE_SIZE", 20),
        error_out=False,
    )
    response = render(
        "notifications/outbox.html",
        page=page,
        selected=status,
        counts=services.queue_counts(),
        statuses=list(NotificationStatus),
    )
    if page.items:  # recipients' addresses are personal data: log who saw them
        from portal.privacy import services as privacy

        privacy.record(
            privacy.Action.VIEW,
            "outbox",
            data={"count": len(page.items), "page": page.page, "status": status and status.value},
        )
        db.session.commit()
    return response


@bp.route("/quan-ly/thu-di/<int:notification_id>/gui-lai", methods=["POST"])
@staff_required(Role.ADMIN)
def retry(notification_id: int):
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.ward_id != current_ward_id():
        abort(404)
    # A message whose address was erased (personal data) has nowhere to go.
    if notification.status == NotificationStatus.FAILED and notification.recipient:
        services.retry(notification)
        db.session.commit()
        flash(_("Thư đã được đưa lại vào hàng đợi."), "success")
    return see_other(url_for(".outbox", **{"trang-thai": request.args.get("trang-thai") or None}))
