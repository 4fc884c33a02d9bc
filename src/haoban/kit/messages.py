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
    "cors_refused": ("不允许此跨域请求的方法或请求头", "This cross-origin method or header is not allowed"),
    "conflict": ("与当前状态冲突", "Conflict with the current state"),
    "payload_too_large": ("请求体过大", "Request body too large"),
    "unsupported_media_type": ("不支持的内容类型", "Unsupported media type"),
    "too_many_requests": ("请求过于频繁", "Too many requests"),
    "rate_limited": ("操作过于频繁，请稍后再试", "Too many requests; wait and retry"),
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
    "already_registered": ("该身份已注册，请直接刷脸登录", "Already registered; log in instead"),
    "frame_count": ("照片数量不对，请拍摄 3 到 5 张", "Wrong number of frames; send 3 to 5"),
    "frame_too_large": ("照片文件过大，请降低分辨率后重拍", "Frame file too large; use a lower resolution"),
    "frame_too_many_pixels": ("照片像素过多，请降低分辨率后重拍", "Frame has too many pixels; use a lower resolution"),
    "frame_undecodable": ("照片无法读取，请重新拍摄", "Frame could not be read (JPEG, PNG or WebP); take it again"),
    "no_face": ("未检测到人脸，请正对镜头、露出整张脸", "No face found; face the camera with your whole face showing"),
    "multiple_faces": ("画面里有多张人脸，请只让本人入镜", "More than one face; only you should be in the picture"),
    "face_too_small": ("人脸太小，请靠近镜头", "Face too small; move closer to the camera"),
    "too_blurry": ("照片模糊，请拿稳手机并在光线充足处拍摄", "Frame too blurry; hold the phone still in good light"),
    "different_people": ("照片中不是同一个人，请本人重新拍摄", "Frames show different people; take them yourself"),
    "no_motion": ("未检测到头部动作，请按提示轻轻转动头部", "No head movement; turn your head slightly as shown"),
    "replayed_frame": ("这些照片已用过，请重新拍摄", "These frames were used before; take new ones"),
    "face_engine_down": ("人脸服务正在重启", "Face service restarting; retry shortly"),
    "unknown_client": ("未知的应用", "Unknown app client"),
    "invalid_client": ("客户端认证失败", "Client authentication failed"),
    "invalid_redirect_uri": ("回调地址未注册", "The redirect URI is not registered for this client"),
    "invalid_request": ("授权请求无效", "The authorization request is invalid"),
    "invalid_id_token_hint": ("登录凭证无效，无法退出", "The ID token hint is invalid; the session was not ended"),
    "invalid_scope": ("申请的权限范围无效", "The requested scope is invalid"),
    "unauthorized_client": ("该客户端无权使用此授权方式", "The client may not use this grant"),
    "unsupported_grant_type": ("不支持的授权方式", "Unsupported grant type"),
    "unsupported_response_type": ("不支持的响应类型", "Unsupported response type"),
    "binding_ticket_invalid": ("绑定凭证无效或已过期", "The binding ticket is invalid, used or expired"),
    "binding_proof_invalid": (
        "绑定凭证与发起设备不符",
        "The binding ticket was presented without the verifier of the device that asked for it",
    ),
    "miniprogram_already_bound": ("该小程序账号已绑定", "This mini-program account is already bound"),
    "miniprogram_code_invalid": ("小程序登录码无效", "The mini-program login code is invalid or used"),
    "miniprogram_platform_error": ("小程序平台返回错误", "The mini-program platform answered with an error"),
    "miniprogram_platform_unavailable": ("小程序平台暂不可用", "The mini-program platform is unavailable"),
    "insufficient_funds": ("公积金余额不足", "The housing-fund balance is too low"),
    "amount_unknown": ("无法计算提取金额", "The amount cannot be computed from the facts on record"),
    "no_payee": ("没有收款银行卡", "No bank card is on record for this application"),
    "application_exists": ("已有办理中的申请", "Application exists"),
    "invalid_transition": ("当前状态不能进行此操作", "Not allowed in the application's current status"),
    "idempotency_key_reused": ("幂等键已用于其他请求", "Idempotency-Key used with another request"),
    "request_in_progress": ("相同请求正在处理", "A request with this Idempotency-Key is still running"),
    "account_closed": ("公积金账户已销户", "The housing-fund account is closed"),
    "no_fund_account": ("未找到公积金账户", "No housing-fund account"),
    "balance_changed": ("账户余额已变动，请重新办理", "The balance changed; apply again"),
    "payout_exists": ("该申请已发起付款", "This application already has a payout"),
    "bank_signature_invalid": ("银行签名校验失败", "The bank's signature did not verify"),
    "bank_mismatch": ("银行记录与付款单不符", "The bank's transfer does not match the payout"),
    "rule_set_missing": ("该事项暂无生效的办理规则", "No rule set of this service is in effect"),
    "invalid_credentials": ("用户名或密码错误", "The username or password is wrong"),
    "staff_login_locked": ("登录失败次数过多，请稍后再试", "Too many failed sign-ins; wait and retry"),
    "own_application": ("不能审批本人的申请", "Nobody decides their own application"),
    "not_pending_review": ("该申请不在待审核状态", "The application is not pending review"),
    "materials_incomplete": ("申请材料尚未补齐，不能批准", "Materials are still missing; it cannot be approved"),
    "materials_not_applicable": ("该事项无需申请人提交材料", "This service takes no materials from the applicant"),
    "materials_closed": ("该申请当前不能提交材料", "The application takes no materials now"),
    "material_rejected": ("材料文件不符合要求", "The material file is not accepted"),
    "primary_material_missing": ("缺少主要材料，不能容缺受理", "A primary material is missing"),
    "materials_missing": ("材料不全", "Materials are missing"),
    "materials_deadline_missed": ("补齐材料已超过期限", "The deadline for the missing materials has passed"),
    "face_invalid": ("照片不符合要求", "A photo cannot be used"),
    "fund_centre_cannot_pay": ("公积金中心暂不能付款", "The fund centre cannot pay now"),
    "fund_centre_debit_outstanding": ("付款结果待确认", "The payment result is not yet confirmed"),
    "fund_centre_refused": ("公积金中心拒绝了这笔付款", "The fund centre refused the payment"),
}


DETAILS: dict[str, tuple[str, str]] = {
    "bad_request": ("请求有误，请检查后重试", "The request is not right; check it and try again"),
    "malformed_body": ("提交的内容无法读取，请重新提交", "The request body could not be read; send it again"),
    "validation_failed": ("有几项填写不对，请按提示改正", "Some entries are not right; correct them as shown"),
    "unauthorized": ("请先登录", "Please sign in first"),
    "invalid_token": ("登录已过期，请重新登录", "Your sign-in has expired; sign in again"),
    "invalid_grant": ("授权已失效，请重新登录", "The grant no longer works; sign in again"),
    "forbidden": ("您不能进行此操作，如有疑问请到窗口咨询", "You may not do this; ask at a service desk if unsure"),
    "insufficient_scope": ("此应用没有这项权限，请重新授权", "This app lacks the permission; authorise it again"),
    "not_found": ("没有找到您要的内容，请检查地址", "Nothing was found here; check the address"),
    "method_not_allowed": ("不支持这种操作方式", "This kind of request is not allowed here"),
    "cors_refused": (
        "此网页只能使用本服务允许的请求方法和请求头",
        "Send only the methods and headers the API allows cross-origin.",
    ),
    "conflict": ("与当前状态冲突，请刷新后重试", "This conflicts with the current state; refresh and retry"),
    "payload_too_large": ("提交的内容太大，请缩小后重试", "The request is too large; make it smaller"),
    "unsupported_media_type": ("提交的内容类型不对，请使用 JSON", "Wrong content type; send JSON"),
    "too_many_requests": ("操作太频繁，请稍等一会儿再试", "Too many requests; wait a moment and retry"),
    "rate_limited": ("操作太频繁，请稍等一会儿再试", "Too many requests; wait a moment and retry"),
    "internal_error": ("服务出了点问题，请稍后再试", "Something went wrong; try again later"),
    "service_unavailable": ("服务暂时不可用，请稍后再试", "The service is unavailable; try again later"),
    "consent_required": ("请先同意使用这些信息，再继续办理", "Agree to the use of this data first, then continue"),
    "step_up_required": ("为了安全，请先刷脸验证本人", "For your safety, verify your face first"),
    "face_verification_failed": ("刷脸没有通过，请按提示重新拍摄", "Face check failed; take the photos again as shown"),
    "face_login_locked": ("失败次数太多，请过一会儿再试", "Too many failed attempts; try again later"),
    "face_busy": ("刷脸的人太多，请稍后再试", "Face check is busy; try again shortly"),
    "challenge_invalid": ("验证已过期，请重新开始刷脸", "The check has expired; start the face check again"),
    "attestation_invalid": ("设备验证未通过，请使用正版应用", "The device check failed; use the official app"),
    "frame_invalid": ("照片不符合要求，请重新拍摄", "A photo is not usable; take it again"),
    "otp_invalid": ("验证码不对或已过期，请重新获取", "The code is wrong or expired; ask for a new one"),
    "already_registered": ("您已注册过，请直接刷脸登录", "You are already registered; log in with your face"),
    "frame_count": ("请拍摄 3 到 5 张照片", "Take 3 to 5 photos"),
    "frame_too_large": ("照片太大，请降低分辨率后重拍", "A photo is too large; use a lower resolution"),
    "frame_too_many_pixels": ("照片太大，请降低分辨率后重拍", "A photo is too large; use a lower resolution"),
    "frame_undecodable": ("照片无法读取，请重新拍摄", "A photo could not be read; take it again"),
    "no_face": ("没有拍到人脸，请正对镜头", "No face found; face the camera"),
    "multiple_faces": ("画面里有多个人，请只让本人入镜", "More than one face; only you should be in the picture"),
    "face_too_small": ("人脸太小，请靠近镜头", "Your face is too small; move closer"),
    "too_blurry": ("照片模糊，请拿稳手机，在亮处拍摄", "A photo is blurry; hold the phone still in good light"),
    "different_people": ("照片里不是同一个人，请本人重新拍摄", "The photos show different people; take them yourself"),
    "no_motion": ("请按提示轻轻转动头部", "Turn your head slightly as shown"),
    "replayed_frame": ("这些照片用过了，请重新拍摄", "These photos were used before; take new ones"),
    "face_engine_down": ("刷脸服务正在重启，请稍后再试", "The face service is restarting; try again shortly"),
    "unknown_client": ("这个应用未登记，请联系应用提供方", "This app is not registered; contact its provider"),
    "invalid_client": ("应用认证失败，请联系应用提供方", "The app could not be authenticated; contact its provider"),
    "invalid_redirect_uri": (
        "回调地址未登记，请联系应用提供方",
        "The return address is not registered; contact the provider",
    ),
    "invalid_request": ("授权请求有误，请重新开始", "The authorisation request is not right; start again"),
    "invalid_id_token_hint": (
        "无法确认您的登录，请重新登录后再退出",
        "Your sign-in could not be confirmed; sign in again, then sign out",
    ),
    "invalid_scope": (
        "申请的权限不对，请联系应用提供方",
        "The requested permission is not valid; contact the provider",
    ),
    "unauthorized_client": ("这个应用不能用这种方式登录", "This app may not sign in this way"),
    "unsupported_grant_type": ("不支持这种授权方式", "This kind of grant is not supported"),
    "unsupported_response_type": ("不支持这种响应类型", "This response type is not supported"),
    "binding_ticket_invalid": ("绑定已过期，请重新开始", "The binding has expired; start again"),
    "binding_proof_invalid": ("请在发起绑定的同一台设备上完成", "Finish on the same device that started the binding"),
    "miniprogram_already_bound": (
        "这个小程序账号已绑定过，请直接登录",
        "This mini-program account is already bound; sign in",
    ),
    "miniprogram_code_invalid": (
        "登录码无效，请重新打开小程序",
        "The login code is not valid; reopen the mini-program",
    ),
    "miniprogram_platform_error": ("小程序平台出错，请稍后再试", "The mini-program platform failed; try again later"),
    "miniprogram_platform_unavailable": (
        "小程序平台暂不可用，请稍后再试",
        "The mini-program platform is down; try later",
    ),
    "insufficient_funds": (
        "公积金余额不够提取，请到窗口咨询",
        "The housing-fund balance is too low; ask at a service desk",
    ),
    "amount_unknown": ("无法算出可提取金额，请到窗口咨询", "The amount cannot be worked out; ask at a service desk"),
    "no_payee": ("没有收款银行卡，请先添加", "No bank card on record; add one first"),
    "application_exists": ("您已有一笔在办的申请，请先查看它", "You already have an application in progress; check it"),
    "invalid_transition": ("申请现在不能这样操作，请刷新查看", "This is not possible for the application now; refresh"),
    "idempotency_key_reused": ("这个请求编号已用过，请换一个", "This request key was used before; use a new one"),
    "request_in_progress": ("相同的请求正在处理，请稍等", "The same request is still running; wait a moment"),
    "account_closed": ("公积金账户已销户，请到窗口咨询", "The housing-fund account is closed; ask at a service desk"),
    "no_fund_account": ("没有找到您的公积金账户，请到窗口咨询", "No housing-fund account found; ask at a service desk"),
    "balance_changed": ("余额有变化，请重新办理", "The balance changed; apply again"),
    "payout_exists": ("这笔申请已经在付款了", "This application is already being paid"),
    "bank_signature_invalid": ("银行消息校验失败", "The bank's message did not verify"),
    "bank_mismatch": ("银行记录与付款单不一致", "The bank's transfer does not match the payout"),
    "rule_set_missing": ("这项业务暂时不能办理，请稍后再试", "This service cannot be applied for now; try later"),
    "invalid_credentials": ("用户名或密码不对，请重新输入", "Wrong username or password; enter them again"),
    "staff_login_locked": ("登录失败次数太多，请过一会儿再试", "Too many failed sign-ins; try again later"),
    "own_application": ("不能审批自己的申请", "You may not decide your own application"),
    "not_pending_review": ("这笔申请现在不需要审核", "This application is not waiting for review"),
    "materials_incomplete": ("材料还没交齐，暂不能批准", "Materials are still missing; it cannot be approved yet"),
    "materials_not_applicable": (
        "这项业务不需要您交材料，可直接办理",
        "This service needs no materials from you; go ahead",
    ),
    "materials_closed": ("这笔申请现在不能交材料", "This application takes no materials now"),
    "material_rejected": ("文件不符合要求，请换一个文件", "The file is not accepted; use another file"),
    "primary_material_missing": ("缺少主要材料，请先补交", "A main material is missing; hand it in first"),
    "materials_missing": ("材料不全，请按清单补交", "Materials are missing; hand them in as listed"),
    "materials_deadline_missed": (
        "补交材料的期限已过，请重新申请",
        "The deadline for materials has passed; apply again",
    ),
    "face_invalid": ("照片不符合要求，请按提示重新拍摄", "A photo cannot be used; take it again as shown"),
    "fund_centre_cannot_pay": ("公积金中心暂时不能付款，请稍后再试", "The fund centre cannot pay now; try again later"),
    "fund_centre_debit_outstanding": (
        "付款结果还在确认，请用同一个请求编号重试",
        "The payment is still being confirmed; retry with the same request key",
    ),
    "fund_centre_refused": (
        "公积金中心没有同意付款，请到窗口咨询",
        "The fund centre refused the payment; ask at a desk",
    ),
}


def language(accept_language: str | None) -> str:
    """`en` when the header prefers English over Chinese, else `zh` (the default)."""
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().lower().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.split("-", 1)[0].strip()
        if lang in {"zh", "en"} and q > 0 and (best is None or (q, -i) > (best[0], best[1])):
            best = (q, -i, lang)
    return best[2] if best else "zh"


def titles(code: str) -> tuple[str, str]:
    return TITLES.get(code, ("请求未能完成", code.replace("_", " ").capitalize()))


def details(code: str) -> tuple[str, str]:
    """The catalogue detail for `code`; a code without one falls back to its title."""
    return DETAILS.get(code) or titles(code)


def title(code: str, accept_language: str | None) -> str:
    """The title for `code` in the language `accept_language` picks (Chinese by default)."""
    zh, en = titles(code)
    return en if language(accept_language) == "en" else zh
