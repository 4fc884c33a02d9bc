"""User-facing problem titles in one place, in Chinese and English."""

from __future__ import annotations

TITLES: dict[str, tuple[str, str]] = {
    "bad_request": ("请求无效", "Bad request"),
    "malformed_body": ("请求体不是有效的 JSON", "Request body is not valid JSON"),
    "validation_failed": ("请求参数校验失败", "Request validation failed"),
    "unauthorized": ("需要登录", "Authentication required"),
    "invalid_token": ("令牌无效或已过期", "Token is invalid or expired"),
    "invalid_grant": ("刷新令牌无效", "Refresh token is invalid"),
    "forbidden": ("无权访问", "Forbidden"),
    "insufficient_scope": ("令牌权限不足", "Token lacks the required scope"),
    "not_found": ("资源不存在", "Resource not found"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "conflict": ("与当前状态冲突", "Conflict with the current state"),
    "payload_too_large": ("请求体过大", "Request body too large"),
    "unsupported_media_type": ("不支持的内容类型", "Unsupported media type"),
    "too_many_requests": ("请求过于频繁", "Too many requests"),
    "internal_error": ("服务器内部错误", "Internal server error"),
    "service_unavailable": ("服务暂不可用", "Service unavailable"),
}


def title(code: str, accept_language: str | None) -> str:
    """The title for `code` in Chinese when the client prefers it, else English."""
    zh, en = TITLES.get(code, (code, code.replace("_", " ").capitalize()))
    if accept_language and accept_language.strip().lower().startswith("zh"):
        return zh
    return en
