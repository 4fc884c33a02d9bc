"""User-facing problem titles in one place, in Chinese and English."""

from __future__ import annotations

TITLES: dict[str, tuple[str, str]] = {
    "bad_request": ("请求无效", "Bad request"),
    "malformed_body": ("请求体不是有效的 JSON", "Request body is not valid JSON"),
    "validation_failed": ("请求参数校验失败", "Request validation failed"),
    "unauthorized": ("需要登录", "Authentication required"),
    "invalid_token": ("令牌无效或已过期", "Token is invalid or expired"),
    "invalid_grant": ("授权凭证无效、已使用或已过期", "The grant is invalid, used or expired"),
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
    "consent_required": ("未获得您对此用途和数据项的授权", "No consent covers this purpose and these data items"),
    "step_up_required": ("请先刷脸验证", "A recent face verification is required"),
    "face_verification_failed": ("刷脸验证未通过", "Face verification failed"),
    "face_login_locked": ("验证失败次数过多，请稍后再试", "Too many failed attempts; wait and retry"),
    "face_busy": ("刷脸服务繁忙，请稍后再试", "Face verification is busy; retry shortly"),
    "challenge_invalid": ("验证挑战无效或已过期", "The challenge is invalid, used or expired"),
    "attestation_invalid": ("设备证明无效", "Device attestation is missing or invalid"),
    "frame_invalid": ("照片不符合要求", "A frame does not meet the requirements"),
    "otp_invalid": ("验证码错误或已过期", "The code is wrong or expired"),
    "frame_count": ("照片数量不正确", "Wrong number of frames"),
    "frame_too_large": ("照片文件过大", "Frame file too large"),
    "frame_too_many_pixels": ("照片像素过多", "Frame has too many pixels"),
    "frame_undecodable": ("照片无法解析", "Frame is not a readable JPEG or PNG"),
    "no_face": ("未检测到人脸", "No face found"),
    "multiple_faces": ("检测到多张人脸", "More than one face found"),
    "face_too_small": ("人脸过小", "Face too small; move closer"),
    "too_blurry": ("照片模糊", "Frame too blurry; hold still"),
    "different_people": ("照片中不是同一个人", "Frames show different people"),
    "no_motion": ("未检测到头部动作", "No head movement between frames"),
    "replayed_frame": ("照片已被使用过", "Frame was already used"),
    "face_engine_down": ("人脸服务正在重启", "Face service restarting; retry shortly"),
    "unknown_client": ("未知的应用", "Unknown app client"),
    "invalid_client": ("客户端认证失败", "Client authentication failed"),
    "invalid_redirect_uri": ("回调地址未注册", "The redirect URI is not registered for this client"),
    "invalid_request": ("授权请求无效", "The authorization request is invalid"),
    "invalid_scope": ("申请的权限范围无效", "The requested scope is invalid"),
    "unauthorized_client": ("该客户端无权使用此授权方式", "The client may not use this grant"),
    "unsupported_grant_type": ("不支持的授权方式", "Unsupported grant type"),
    "unsupported_response_type": ("不支持的响应类型", "Unsupported response type"),
    "binding_ticket_invalid": ("绑定凭证无效或已过期", "The binding ticket is invalid, used or expired"),
    "miniprogram_already_bound": ("该小程序账号已绑定", "This mini-program account is already bound"),
    "miniprogram_code_invalid": ("小程序登录码无效", "The mini-program login code is invalid or used"),
    "miniprogram_platform_error": ("小程序平台返回错误", "The mini-program platform answered with an error"),
    "miniprogram_platform_unavailable": ("小程序平台暂不可用", "The mini-program platform is unavailable"),
}


def title(code: str, accept_language: str | None) -> str:
    """The title for `code` in Chinese when the client prefers it, else English."""
    zh, en = TITLES.get(code, (code, code.replace("_", " ").capitalize()))
    if accept_language and accept_language.strip().lower().startswith("zh"):
        return zh
    return en
