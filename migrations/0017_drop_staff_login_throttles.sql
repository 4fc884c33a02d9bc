-- Issue 13: staff sign-in is throttled per username at a source address and per address
-- in the shared limiter (rate_limit_streaks, rate_limit_hits; haoban.staff.throttle),
-- never per username alone. The per-username lockout table is gone.
DROP TABLE staff_login_throttles;
