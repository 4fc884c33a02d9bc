"""Mini-program login: WeChat and Alipay login codes, bound to face-verified citizens."""
