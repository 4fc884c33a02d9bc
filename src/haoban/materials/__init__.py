"""1+1+N materials: self-certified uploads, signed letters, tolerant acceptance (容缺受理)."""
