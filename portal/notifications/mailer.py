"""Turning an outbox row into an e-mail and handing it to the SMTP server.

Settings: ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USERNAME``, ``MAIL_PASSWORD``,
``MAIL_USE_TLS`` (STARTTLS), ``MAIL_FROM`` and ``MAIL_TIMEOUT`` (seconds, default 20).
The message is plain text with an HTML alternative. Its ``Message-ID`` and ``Date`` come
from the outbox row, so a message sent twice is the same message both times.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from portal.notifications.models import Notification


class PermanentFailure(Exception):
    """The server refused the message for good (e.g. an unknown mailbox): do not retry."""


def build_message(notification: Notification, config) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = config.get("MAIL_FROM") or "kien-nghi@localhost"
    message["To"] = Address(addr_spec=notification.recipient)
    message["Date"] = format_datetime(notification.created_at.replace(tzinfo=UTC))
    message["Message-ID"] = notification.message_id
    message["Content-Language"] = notification.locale
    # Automatic mail: no out-of-office replies, please (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if notification.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{notification.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(notification.body_text)
    message.add_alternative(notification.body_html, subtype="html")
    return message


class SMTPMailer:
    """One SMTP connection, opened on the first message and reused for a batch."""

    def __init__(self, config):
        self.host = config.get("MAIL_SERVER") or "localhost"
        self.port = int(config.get("MAIL_PORT") or 25)
        self.username = config.get("MAIL_USERNAME") or ""
        self.password = config.get("MAIL_PASSWORD") or ""
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.timeout = float(config.get("MAIL_TIMEOUT") or 20)
        self.sender = parseaddr(config.get("MAIL_FROM") or "kien-nghi@localhost")[1]
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, recipient: str) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            refused = self._smtp.send_message(
                message, from_addr=self.sender or None, to_addrs=[recipient]
            )
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentFailure(_describe(error)) from error
            raise
        except smtplib.SMTPResponseException as error:
            if error.smtp_code in (550, 551, 552, 553, 554) and not isinstance(
                error, smtplib.SMTPSenderRefused
            ):
                raise PermanentFailure(_describe(error)) from error
            self.close()
            raise
        except (OSError, smtplib.SMTPException):
            self.close()
            raise
        if refused:
            raise PermanentFailure(str(refused))

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
