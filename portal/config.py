"""Settings read from the environment, with defaults that are safe for a laptop.

Every setting is documented in the README. Production mode (``PORTAL_ENV=production``)
refuses to start with the development secret key.
"""

from __future__ import annotations

import os
from pathlib import Path

DEV_SECRET_KEY = "dev-only-change-me"  # noqa: S105 - refused in production by check()

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def from_environment() -> dict:
    """Build the configuration mapping from environment variables."""
    return {
        "PORTAL_ENV": os.environ.get("PORTAL_ENV", "development"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
        ),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads")),
        "UPLOAD_STORAGE": os.environ.get("UPLOAD_STORAGE", "local"),
        "S3_BUCKET": os.environ.get("S3_BUCKET", ""),
        "S3_PREFIX": os.environ.get("S3_PREFIX", "uploads/"),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", ""),
        "S3_REGION": os.environ.get("S3_REGION", ""),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "REDIS_KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX", "kien-nghi:"),
        # Reverse proxies / load balancers in front of the app whose X-Forwarded-* headers
        # are trusted (client address for rate limits, https for links); 0 trusts none.
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        # A pooled connection idle longer than this (seconds) is pinged before use.
        "DATABASE_PING_AFTER_IDLE": _env_int("DATABASE_PING_AFTER_IDLE", 5),
        # Memory per process for the public pages' cache (portal.pagecache); 0 turns it off.
        "PAGE_CACHE_MAX_BYTES": _env_int("PAGE_CACHE_MAX_BYTES", 16 * 1024 * 1024),
        "PG_BIN_DIR": os.environ.get("PG_BIN_DIR", ""),
        "PORTAL_WARD_CODE": os.environ.get("PORTAL_WARD_CODE", "09886"),
        "PORTAL_CODE_PREFIX": os.environ.get("PORTAL_CODE_PREFIX", "KN"),
        "MAP_TILE_URL": os.environ.get(
            "MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        ),
        "MAP_TILE_ATTRIBUTION": os.environ.get(
            "MAP_TILE_ATTRIBUTION", "&copy; Những người đóng góp OpenStreetMap"
        ),
        "GEOCODER": os.environ.get("GEOCODER", "offline"),
        "GEOCODER_USER_AGENT": os.environ.get("GEOCODER_USER_AGENT", "kien-nghi-portal"),
        "GEOCODER_URL": os.environ.get("GEOCODER_URL", ""),
        "GEOCODER_TIMEOUT": float(os.environ.get("GEOCODER_TIMEOUT", "3")),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "kien-nghi@localhost"),
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        # Empty: REDIS_URL when set (counters shared by every process), else memory://.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", ""),
        "PETITION_RATE_LIMIT": os.environ.get("PETITION_RATE_LIMIT", "10 per hour"),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCKOUT_MINUTES": _env_int("LOGIN_LOCKOUT_MINUTES", 15),
        "MAX_PHOTOS": _env_int("MAX_PHOTOS", 5),
        "MAX_PHOTO_BYTES": _env_int("MAX_PHOTO_BYTES", 10 * 1024 * 1024),
        "PAGE_SIZE": _env_int("PAGE_SIZE", 20),
        "DUPLICATE_RADIUS_M": _env_int("DUPLICATE_RADIUS_M", 200),
        "DEFAULT_REPLY_DAYS": _env_int("DEFAULT_REPLY_DAYS", 5),
        "DEFAULT_RESOLVE_DAYS": _env_int("DEFAULT_RESOLVE_DAYS", 20),
        "DUE_SOON_DAYS": _env_int("DUE_SOON_DAYS", 3),
        "RATING_DAYS": _env_int("RATING_DAYS", 30),
        # Personal data of a petition is erased this many days after it ended
        # (``flask portal anonymise-expired``); 730 days = two years.
        "PERSONAL_DATA_RETENTION_DAYS": _env_int("PERSONAL_DATA_RETENTION_DAYS", 730),
        # Who residents contact about their personal data (shown on /quyen-rieng-tu).
        "PRIVACY_CONTACT_NAME": os.environ.get("PRIVACY_CONTACT_NAME", ""),
        "PRIVACY_CONTACT_EMAIL": os.environ.get("PRIVACY_CONTACT_EMAIL", ""),
        "PRIVACY_CONTACT_PHONE": os.environ.get("PRIVACY_CONTACT_PHONE", ""),
        "PRIVACY_CONTACT_ADDRESS": os.environ.get("PRIVACY_CONTACT_ADDRESS", ""),
    }


DEFAULTS = {
    # No ping on every checkout: portal.database pings connections idle for a while.
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # Redis down: count in the process rather than refuse every request.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "LANGUAGES": {"vi": "Tiếng Việt", "en": "English"},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # Five photos of 10 MB and the rest of the form.
    "MAX_CONTENT_LENGTH": 55 * 1024 * 1024,
    "MAX_IMAGE_PIXELS": 40_000_000,
    "PHOTO_MAX_SIDE": 2048,
    "THUMB_MAX_SIDE": 320,
}


class ConfigError(RuntimeError):
    """The configuration cannot be used."""


def check(config: dict) -> None:
    """Refuse settings that would be unsafe in production."""
    if config.get("PORTAL_ENV") == "production" and config.get("SECRET_KEY") in (
        None,
        "",
        DEV_SECRET_KEY,
    ):
        raise ConfigError("SECRET_KEY must be set to a long random value in production.")
    method = config.get("PASSWORD_HASH_METHOD") or "scrypt"
    if config.get("PORTAL_ENV") == "production" and not _strong_hash(method):
        raise ConfigError(f"PASSWORD_HASH_METHOD {method!r} is too weak for production.")


def _strong_hash(method: str) -> bool:
    """scrypt (Werkzeug's default), or PBKDF2-SHA256 with at least 600,000 rounds."""
    if method.startswith("scrypt"):
        return True
    parts = method.split(":")
    return (
        len(parts) == 3
        and parts[0] == "pbkdf2"
        and parts[1] in ("sha256", "sha512")
        and parts[2].isdigit()
        and int(parts[2]) >= 600_000
    )
